"""`python -m bot`, run as a host would."""

import asyncio
import logging
import os
import pwd
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

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


def import_seed(folder: Path, *options: str) -> subprocess.CompletedProcess[str]:
    title = ("--title", "Sera: Elisabeth Shue in Leaving Las Vegas")
    return cli(
        "essays",
        "import",
        str(SEED_TEXT),
        *title,
        *options,
        cwd=folder,
        env_extra={"ESSAYS_DIR": str(folder / "essays")},
    )


def test_import_writes_the_seed_as_the_bundled_markdown(tmp_path):
    options = ("--year", "1995", "--director", "Mike Figgis")
    result = import_seed(tmp_path, "--film", "Leaving Las Vegas", *options)
    assert result.returncode == 0, result.stderr
    written = tmp_path / "essays" / SEED_ESSAY.name
    assert written.read_text(encoding="utf-8") == SEED_ESSAY.read_text(encoding="utf-8")
    assert "8 sections" in result.stdout
    again = import_seed(tmp_path, "--film", "F")
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
    assert ok.returncode == 0 and "1 essay, 0 with problems" in ok.stdout.splitlines()
    assert "ok   good.md: “T”, 1 section" in ok.stdout.splitlines()
    (folder / "bad.md").write_text("+++\ntitle = T\n+++\n\nText.\n")
    bad = cli("essays", "check", cwd=tmp_path, env_extra={"ESSAYS_DIR": str(folder)})
    assert bad.returncode == 1
    assert "FAIL bad.md: The front matter between the `+++` lines is not valid TOML" in bad.stdout


def test_the_bundled_library_checks_clean():
    result = cli("essays", "check", cwd=ROOT)
    assert result.returncode == 0, result.stdout


def first_line_then_sigterm(command, cwd, token=None):
    """`python -m bot <command>`'s first line of output, its exit code after a SIGTERM, and its
    log."""
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    env["PYTHONPATH"] = str(ROOT)
    if token is not None:
        env["DISCORD_TOKEN"] = token
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", command],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        process.send_signal(signal.SIGTERM)
        return line, process.wait(timeout=30), process.stderr.read()
    finally:
        process.kill()


def test_run_without_a_token_starts_the_offline_demo(tmp_path):
    line, code, log = first_line_then_sigterm("run", tmp_path)
    assert line.startswith(
        "Projectionist offline demo (no Discord token set): open http://127.0.0.1:"
    )
    assert code == 0, "SIGTERM shuts the demo down cleanly"
    # Its log, not on a terminal: no colour codes, no warnings that mean nothing for this bot.
    assert "Applied database migration" in log
    assert "\x1b[" not in log
    assert "WARNING" not in log, log


def test_the_demo_asked_for_with_a_token_set_says_so(tmp_path):
    line, code, log = first_line_then_sigterm("demo", tmp_path, token="tok.en.UNUSED")
    assert line.startswith(
        "Projectionist offline demo (DISCORD_TOKEN is set, but the demo never connects to "
        "Discord): open http://127.0.0.1:"
    ), line
    assert code == 0
    assert "tok.en.UNUSED" not in line + log


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


def save_a_quote(opened) -> None:
    """A quote, "Hello there", saved in the database that `opened()` (a coroutine) opens, which
    is closed after."""

    async def save():
        db = await opened()
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO quotes (guild_id, number, text, author_id, saved_by, saved_at) "
                "VALUES (5, 1, 'Hello there', 7, 8, 0)"
            )
        await db.close()

    asyncio.run(save())


def test_db_backup_check_and_export(tmp_path):
    from bot.sqlite import SqliteDatabase

    save_a_quote(lambda: SqliteDatabase.open(tmp_path / "live.db"))
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


def test_a_database_that_cannot_be_used_is_one_line_and_a_non_zero_exit(tmp_path):
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a database, only some text" * 200)
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 999")
    cases = [
        ("run", {"DATABASE_PATH": str(corrupt)}, "is damaged"),
        ("run", {"DATABASE_PATH": str(newer)}, "schema version 999"),
        ("run", {"DATABASE_PATH": str(corrupt / "new.db")}, "cannot be opened"),
        ("demo --db " + str(corrupt), {}, "is damaged"),
        ("demo --db " + str(newer), {}, "schema version 999"),
    ]
    for command, env, says in cases:
        started = time.monotonic()
        result = cli(*command.split(), cwd=tmp_path, env_extra={"DISCORD_TOKEN": "x.y.z", **env})
        assert_one_line_failure(result, says, time.monotonic() - started)


def assert_one_line_failure(result, says: str, took: float) -> None:
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR" in line or says in line]
    assert len(errors) == 1 and says in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert took < 10, took


READ_ONLY_AND_FULL = """
set -e
mount -t tmpfs -o size=4m tmpfs "$1"
"$2" -c "import asyncio; from bot.sqlite import SqliteDatabase
async def made(): await (await SqliteDatabase.open('$1/club.db')).close()
asyncio.run(made())"
mount -o remount,ro "$1"
DATABASE_PATH="$1/club.db" "$2" -m bot run 2>"$1.existing" || echo $? >>"$1.codes"
DATABASE_PATH="$1/sub/new.db" "$2" -m bot run 2>"$1.new" || echo $? >>"$1.codes"
mount -o remount,rw "$1"
dd if=/dev/zero of="$1/filler" bs=1k count=8000 2>/dev/null || true
DATABASE_PATH="$1/full.db" "$2" -m bot run 2>"$1.full" || echo $? >>"$1.codes"
"""


def test_a_read_only_file_system_or_a_full_disk_is_one_line_and_a_non_zero_exit(tmp_path):
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare and mount (util-linux) to make a read-only, then full, disk")
    mounted = tmp_path / "disk"
    mounted.mkdir()
    _, took = in_a_mount_namespace(
        READ_ONLY_AND_FULL,
        str(mounted),
        sys.executable,
        env_extra={"DISCORD_TOKEN": "x.y.z"},
        cwd=tmp_path,
    )
    took /= 3
    assert (tmp_path / "disk.codes").read_text().split() == ["1", "1", "1"]
    for name, says in (
        ("existing", "is on a read-only file system"),
        ("new", "is on a read-only file system"),
        ("full", "is full"),
    ):
        stderr = (tmp_path / f"disk.{name}").read_text()
        assert_one_line_failure(subprocess.CompletedProcess([], 1, "", stderr), says, took)


def test_discord_out_of_reach_is_one_line_and_a_non_zero_exit(tmp_path):
    # Discord's address pointed at a closed port on this machine: the connection is refused.
    script = (
        "import sys, discord.http\n"
        "discord.http.Route.BASE = 'http://127.0.0.1:9/api/v10'\n"
        "from bot.__main__ import main\n"
        "sys.exit(main(['run']))\n"
    )
    env = {k: v for k, v in os.environ.items()}
    env.update(
        PYTHONPATH=str(ROOT),
        DISCORD_TOKEN="secret.token.value",
        DATABASE_PATH=str(tmp_path / "bot.db"),
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and "Cannot reach Discord" in errors[0], result.stderr
    assert "secret.token.value" not in result.stderr + result.stdout


def test_essays_check_on_a_missing_folder_fails(tmp_path):
    result = cli("essays", "check", cwd=tmp_path, env_extra={"ESSAYS_DIR": str(tmp_path / "no")})
    assert result.returncode == 1
    assert f"No essays folder at {tmp_path / 'no'}" in result.stderr


def test_essays_check_and_db_check_load_neither_discord_nor_the_services(tmp_path):
    script = (
        "import sys\n"
        "from bot.__main__ import main\n"
        "main(sys.argv[1:])\n"
        "heavy = ('discord', 'bot.client', 'bot.films.service', 'bot.quotes.service', 'bot.reactions.recorder')\n"
        "print('loaded:', sorted(m for m in heavy if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    env.update(PYTHONPATH=str(ROOT), DATABASE_PATH=str(tmp_path / "x.db"))
    sqlite3.connect(tmp_path / "x.db").close()
    for args in (["essays", "check"], ["db", "check"]):
        result = subprocess.run(
            [sys.executable, "-c", script, *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.stdout.splitlines()[-1] == "loaded: []", (args, result.stdout, result.stderr)


def test_sync_without_a_token_says_so_in_one_line(tmp_path):
    result = cli("sync", cwd=tmp_path, env_extra={"DATABASE_PATH": str(tmp_path / "x.db")})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [NO_TOKEN_LINE]
    assert "real Discord" not in result.stderr


NO_TOKEN_LINE = (
    "No DISCORD_TOKEN is set. Put DISCORD_TOKEN=<your bot token> in a .env file next to the "
    "Makefile (see .env.example) or in the environment, then run `make run` again."
)


def test_db_check_names_the_file_and_the_fix(tmp_path):
    folder = tmp_path / "a-folder.db"
    folder.mkdir()
    for path, says in (
        (tmp_path / "none.db", "check DATABASE_PATH"),
        (folder, "cannot be opened"),
    ):
        result = cli("db", "check", cwd=tmp_path, env_extra={"DATABASE_PATH": str(path)})
        assert result.returncode == 1
        [line] = result.stderr.strip().splitlines()
        assert str(path) in line and says in line, line
        assert "Traceback" not in result.stderr


# Another user than the one who installed the project, as systemd's `User=` runs it: the
# interpreter lives under /root here, so a private mount namespace lets that user reach it.
AS_USER = """
set -e
stash=$(mktemp -d)
mount --bind /root/.pyenv "$stash"
mount -t tmpfs -o mode=755 tmpfs /root
mkdir /root/.pyenv
mount --bind "$stash" /root/.pyenv
cd "$1"; shift
exec runuser -u nobody -- "$@"
"""


def in_a_mount_namespace(script, *args, env_extra=None, cwd=None):
    """`script` run by sh with `args` in a mount namespace of its own (so it may mount), with
    the time it took; skipped where this machine cannot make one."""
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    env.update(PYTHONPATH=str(ROOT), **(env_extra or {}))
    started = time.monotonic()
    result = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if "mount:" in result.stderr or "unshare:" in result.stderr:
        pytest.skip(f"this machine cannot mount a test file system: {result.stderr.strip()}")
    return result, time.monotonic() - started


def as_nobody(folder, *args, env_extra=None):
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("runuser"):
        pytest.skip("needs root, unshare and runuser to run the bot as another user")
    return in_a_mount_namespace(
        AS_USER, str(folder), sys.executable, "-m", "bot", *args, env_extra=env_extra
    )


def test_files_the_service_user_cannot_use_are_one_line_each():
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="projectionist-opt-") as folder:
        home = Path(folder)
        home.chmod(0o755)  # as /opt/projectionist: anyone may enter, root owns it
        (home / "data").mkdir()
        check_service_user_faults(home)


def check_service_user_faults(home):
    env = home / ".env"
    env.write_text(f"DISCORD_TOKEN=x.y.z\nDATABASE_PATH={home / 'data' / 'club.db'}\n")
    env.chmod(0o600)  # root's, as an operator who forgot the chown leaves it
    result, took = as_nobody(home, "run")
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert f"Cannot read {env}" in line and "chown nobody .env" in line
    assert "Traceback" not in result.stderr and took < 10
    # Readable now; data/ still root's: one line, and nothing after it, run after run.
    env.chmod(0o644)
    for _ in range(3):
        result, took = as_nobody(home, "run")
        assert_one_line_failure(result, "cannot be written", took)
        assert str(home / "data" / "club.db") in result.stderr
        assert "Event loop is closed" not in result.stderr
    # The README's steps: .env and data/ given to the service's user. The bot starts, creates
    # its database, and goes on to Discord (out of reach here, or refusing the made-up token).
    nobody = pwd.getpwnam("nobody")
    os.chown(env, nobody.pw_uid, nobody.pw_gid)
    env.chmod(0o600)
    os.chown(home / "data", nobody.pw_uid, nobody.pw_gid)
    home.joinpath("data").chmod(0o700)
    result, _ = as_nobody(home, "run")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    [error] = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert "Discord" in error, error
    assert (home / "data" / "club.db").stat().st_uid == nobody.pw_uid
