"""The tests' throwaway PostgreSQL leaves nothing behind, even after a run that was killed."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from tests.postgres_server import OWNER, PREFIX, STALE_AFTER_S, remove_stale


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


def test_a_server_that_outlived_its_killed_run_is_stopped_and_its_folder_removed(tmp_path: Path):
    # `pg_ctl` starts the server on its own: a test worker killed leaves it running, holding
    # its memory (its folder is in /dev/shm) until the machine restarts.
    killed_run = subprocess.Popen(["true"])
    killed_run.wait()
    server = subprocess.Popen(["sleep", "600"])  # stands in for the postmaster
    live_run_server = subprocess.Popen(["sleep", "600"])
    try:
        orphan = server_folder(tmp_path, "orphan", server.pid)
        (orphan / OWNER).write_text(str(killed_run.pid))
        owned = server_folder(tmp_path, "owned", live_run_server.pid)
        (owned / OWNER).write_text(str(os.getpid()))
        old = time.time() - STALE_AFTER_S - 60
        for folder in (orphan, owned):
            os.utime(folder, (old, old))

        remove_stale(tmp_path)

        assert server.wait(timeout=10) != 0  # stopped (SIGQUIT)
        assert not orphan.exists()
        assert owned.exists() and live_run_server.poll() is None
    finally:
        for process in (server, live_run_server):
            process.kill()
            process.wait()
