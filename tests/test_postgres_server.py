"""The tests' throwaway PostgreSQL leaves nothing behind, even after a run that was killed."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from tests.postgres_server import PREFIX, STALE_AFTER_S, remove_stale


def server_folder(root: Path, name: str, pid: int | None) -> Path:
    folder = root / f"{PREFIX}{name}"
    (folder / "data").mkdir(parents=True)
    if pid is not None:
        (folder / "data" / "postmaster.pid").write_text(f"{pid}\n/some/data\n")
    return folder


def test_the_folders_of_killed_runs_go_and_running_or_starting_ones_stay(tmp_path: Path):
    ended = subprocess.Popen(["true"])
    ended.wait()
    dead = server_folder(tmp_path, "killed", ended.pid)
    running = server_folder(tmp_path, "running", os.getpid())
    stopped = server_folder(tmp_path, "stopped", None)
    old = time.time() - STALE_AFTER_S - 60
    for folder in (dead, running, stopped):
        os.utime(folder, (old, old))
    # initdb's standalone servers come and go: a new folder's pid may already be gone
    starting = server_folder(tmp_path, "starting", ended.pid)
    other = tmp_path / "someone-elses"
    other.mkdir()
    os.utime(other, (old, old))

    remove_stale(tmp_path)

    assert not dead.exists() and not stopped.exists()
    assert running.exists() and starting.exists() and other.exists()
