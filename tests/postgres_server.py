"""A throwaway PostgreSQL server for the tests and the benchmark: the machine's binaries
(`pg_config --bindir`), a temporary folder, a free port, fsync off; stopped at the end.

The tests' server keeps its data in memory (/dev/shm) when the machine has room there: each test
copies the migrated database, which took 90-250 ms on this machine's disk and 20-35 ms in memory.
The benchmark's server stays on disk, where its figures mean something.

`initdb` refuses to run as root: as root, the server runs as the `postgres` user (Debian's
package creates it), through `runuser`."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

HOW_TO_INSTALL = "install PostgreSQL (Debian: apt-get install postgresql) to run them"


def bindir() -> Path | None:
    """Where the server's programs are, or None when this machine has none."""
    found = shutil.which("pg_config")
    if found:
        try:
            path = Path(
                subprocess.run(
                    [found, "--bindir"], capture_output=True, text=True, check=True
                ).stdout.strip()
            )
            if (path / "initdb").exists():
                return path
        except (OSError, subprocess.CalledProcessError):
            pass
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return versions[0].parent if versions else None


def unavailable() -> str | None:
    """Why no throwaway server can run here (one line), or None when one can."""
    if bindir() is None:
        return f"no PostgreSQL binaries: {HOW_TO_INSTALL}"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a `postgres` user for initdb"
        if shutil.which("runuser") is None:
            return "running as root without `runuser` to start PostgreSQL as `postgres`"
    return None


IN_MEMORY = Path("/dev/shm")
IN_MEMORY_ROOM = 2 * 1024**3  # the tests' server holds a few hundred MB at most


def memory_folder() -> Path | None:
    """A tmpfs folder with room for the tests' server, or None (e.g. a container's 64 MB)."""
    try:
        usage = shutil.disk_usage(IN_MEMORY)
    except OSError:
        return None
    return IN_MEMORY if usage.free >= IN_MEMORY_ROOM and os.access(IN_MEMORY, os.W_OK) else None


PREFIX = "projectionist-pg-"
# A folder changed this recently may be a run's starting up: `initdb` runs standalone servers
# one after the other, each writing its pid into the folder and gone a moment later.
STALE_AFTER_S = 3600


OWNER = "owner"  # in a server's folder: the pid of the process that started it


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True


def orphaned(folder: Path) -> bool:
    """Whether the process that started the folder's server is gone (a killed run: the server,
    started by `pg_ctl`, outlives it). A folder that does not say is not."""
    try:
        return not running(int((folder / OWNER).read_text()))
    except (OSError, ValueError):
        return False


def remove_stale(root: Path) -> None:
    """Remove the folders of servers whose run was killed before it could (the folder unchanged
    for an hour, and its server gone or its run's process gone), stopping a server that outlived
    its run: in memory, one would hold its RAM until the machine restarts."""
    for folder in root.glob(f"{PREFIX}*"):
        try:
            if time.time() - folder.stat().st_mtime < STALE_AFTER_S:
                continue
            pid = int((folder / "data" / "postmaster.pid").read_text().split()[0])
        except FileNotFoundError:
            pid = None  # no server started, or one that stopped
        except (OSError, ValueError, IndexError):
            continue
        if pid is not None and running(pid):
            if not orphaned(folder):
                continue  # a running server, another run's
            try:
                os.kill(pid, signal.SIGQUIT)  # PostgreSQL's immediate shutdown
            except OSError:
                continue
        shutil.rmtree(folder, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PostgresServer:
    def __init__(self, *, in_memory: bool = False) -> None:
        found = bindir()
        if found is None:  # callers ask `unavailable()` first
            raise RuntimeError(f"no PostgreSQL binaries: {HOW_TO_INSTALL}")
        self.bin = found
        root = memory_folder() if in_memory else None
        remove_stale(root or Path(tempfile.gettempdir()))
        self.folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=root))
        (self.folder / OWNER).write_text(str(os.getpid()))
        self.data = self.folder / "data"
        self.port = free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres"
            entry = pwd.getpwnam("postgres")
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, cwd=self.folder)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:1])} failed: {result.stderr or result.stdout}")

    def start(self) -> PostgresServer:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        self.resume()
        return self

    def resume(self) -> None:
        """Start the server (again, after `pause`) on the same port and data."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            " -c max_connections=200 -c shared_buffers=128MB"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-l",
            str(self.folder / "server.log"),
            "start",
        )

    def pause(self) -> None:
        """Stop the server as an operator would (its clients are disconnected), keeping its
        data for `resume`."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _as_client(self) -> tuple[str, ...]:
        """How `createdb` and `dropdb` reach the server: as `url()` does."""
        return ("-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres")

    def create_database(self, name: str, template: str = "template0") -> str:
        """A new, empty database (or a copy of `template`); its URL."""
        self._run("createdb", *self._as_client(), "-T", template, name)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a test's database, its clients disconnected, so that the session's server does
        not keep a copy of the migrated database for each test that ran (170 a worker, 2.2 GB
        and 86,000 files). Housekeeping: a drop that fails is a warning, not the test's error."""
        try:
            self._run("dropdb", *self._as_client(), "--force", name)
        except RuntimeError as error:
            warnings.warn(f"could not drop the test database {name}: {error}", stacklevel=2)

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():  # not paused
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
