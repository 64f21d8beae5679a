"""`python -m bot`, run as a host would."""

import logging
import os
import signal
import subprocess
import sys

from tests.conftest import ROOT, SEED_ESSAY, SEED_TEXT


def cli(*args, cwd, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    env["PYTHONPATH"] = str(ROOT)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_import_writes_the_seed_as_the_bundled_markdown(tmp_path):
    result = cli(
        "essays",
        "import",
        str(SEED_TEXT),
        "--title",
        "Sera: Elisabeth Shue in Leaving Las Vegas",
        "--film",
        "Leaving Las Vegas",
        "--year",
        "1995",
        "--director",
        "Mike Figgis",
        cwd=tmp_path,
        env_extra={"ESSAYS_DIR": str(tmp_path / "essays")},
    )
    assert result.returncode == 0, result.stderr
    written = tmp_path / "essays" / SEED_ESSAY.name
    assert written.read_text(encoding="utf-8") == SEED_ESSAY.read_text(encoding="utf-8")
    assert "8 sections" in result.stdout
    again = cli(
        "essays",
        "import",
        str(SEED_TEXT),
        "--title",
        "Sera: Elisabeth Shue in Leaving Las Vegas",
        "--film",
        "F",
        cwd=tmp_path,
        env_extra={"ESSAYS_DIR": str(tmp_path / "essays")},
    )
    assert again.returncode == 1 and "already exists" in again.stderr


def test_import_without_a_title_fails_clearly(tmp_path):
    result = cli(
        "essays", "import", str(SEED_TEXT), cwd=tmp_path, env_extra={"ESSAYS_DIR": str(tmp_path)}
    )
    assert result.returncode == 1
    assert "has no title" in result.stderr


def test_check_reports_problems_and_exits_non_zero(tmp_path):
    folder = tmp_path / "essays"
    folder.mkdir()
    (folder / "good.md").write_text("Title: T\nFilm: F\n\nText.\n")
    ok = cli("essays", "check", cwd=tmp_path, env_extra={"ESSAYS_DIR": str(folder)})
    assert ok.returncode == 0 and "1 essays, 0 with problems" in ok.stdout
    (folder / "bad.md").write_text("Film: F\n\nText.\n")
    bad = cli("essays", "check", cwd=tmp_path, env_extra={"ESSAYS_DIR": str(folder)})
    assert bad.returncode == 1
    assert "FAIL bad.md: This essay has no title." in bad.stdout


def test_the_bundled_library_checks_clean():
    result = cli("essays", "check", cwd=ROOT)
    assert result.returncode == 0, result.stdout


def test_run_without_a_token_starts_the_offline_demo(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    env["PYTHONPATH"] = str(ROOT)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = process.stdout.readline()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    finally:
        process.kill()
    assert line.startswith(
        "Projectionist offline demo (no Discord token set): open http://127.0.0.1:"
    )
    assert code == 0, "SIGTERM shuts the demo down cleanly"


def test_secrets_are_redacted_from_log_lines(caplog):
    from bot.logs import RedactSecrets, redact

    redact("tok.en.SENTINEL")
    logger = logging.getLogger("sentinel-test")
    logger.addFilter(RedactSecrets())
    with caplog.at_level(logging.INFO, logger="sentinel-test"):
        logger.info("connecting with %s", "tok.en.SENTINEL")
        logger.info("preview at http://127.0.0.1:1/#tok.en.SENTINEL")
    assert [r.getMessage() for r in caplog.records] == [
        "connecting with [redacted]",
        "preview at http://127.0.0.1:1/#[redacted]",
    ]
    assert "SENTINEL" not in caplog.text


def test_db_backup_check_and_export(tmp_path):
    import asyncio
    import sqlite3

    from bot.db import Database

    async def make():
        db = await Database.open(tmp_path / "live.db")
        await db.migrate()
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO quotes (guild_id, number, text, author_id, saved_by, saved_at) "
                "VALUES (5, 1, 'Hello there', 7, 8, 0)"
            )
        await db.close()

    asyncio.run(make())
    env = {"DATABASE_PATH": str(tmp_path / "live.db")}
    result = cli("db", "backup", str(tmp_path / "copy.db"), cwd=tmp_path, env_extra=env)
    assert result.returncode == 0, result.stderr
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("SELECT text FROM quotes").fetchone()[0] == "Hello there"
    copy.close()
    checked = cli("db", "check", cwd=tmp_path, env_extra=env)
    assert checked.returncode == 0 and "integrity: ok" in checked.stdout
    exported = cli("export", "--member", "7", cwd=tmp_path, env_extra=env)
    assert '"text": "Hello there"' in exported.stdout
    missing = cli(
        "db", "check", cwd=tmp_path, env_extra={"DATABASE_PATH": str(tmp_path / "none.db")}
    )
    assert missing.returncode == 1


def test_the_readme_command_reference_matches_the_command_tree():
    result = subprocess.run(
        [sys.executable, "-m", "scripts.command_reference", "--check", str(ROOT / "README.md")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_a_backup_taken_while_writes_run_passes_the_integrity_check(tmp_path):
    import sqlite3
    import threading

    from bot import ops

    live = tmp_path / "live.db"
    conn = sqlite3.connect(live)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    conn.commit()
    stop = threading.Event()

    def write() -> None:
        writer = sqlite3.connect(live, timeout=10)
        n = 0
        while not stop.is_set():
            writer.execute("INSERT INTO t (body) VALUES (?)", ("x" * 500,))
            n += 1
            if n % 50 == 0:
                writer.commit()
        writer.commit()
        writer.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        for i in range(5):
            ops.backup(live, tmp_path / f"copy{i}.db")
    finally:
        stop.set()
        thread.join()
        conn.close()
    for i in range(5):
        copy = sqlite3.connect(tmp_path / f"copy{i}.db")
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        copy.close()
