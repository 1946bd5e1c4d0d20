"""A throwaway PostgreSQL server of a drill's own (own port, own data directory), to kill and restart at will.

The machine's PostgreSQL is never stopped or restarted by a test: a drill that kills a database starts one of these.
PostgreSQL refuses to run as root, so when the tests run as root the server runs as the `postgres` system user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def _bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    return candidates[0].parent if candidates else None


def available() -> str | None:
    """None when a throwaway server can be started here, else why not."""
    if _bin_dir() is None:
        return "no PostgreSQL server binaries (initdb, pg_ctl) on this machine"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and no `postgres` user to run the server as"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ThrowawayPostgres:
    """A PostgreSQL server in `data_dir` on 127.0.0.1:`port`, trust authentication, database `postgres`."""

    data_dir: Path
    port: int
    bin_dir: Path

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        """Start (or restart after a kill) and wait until it accepts connections."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data_dir} -c fsync=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-o",
            options,
            "-l",
            str(self.data_dir / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def pid(self) -> int | None:
        pid_file = self.data_dir / "postmaster.pid"
        with contextlib.suppress(FileNotFoundError, ValueError):
            return int(pid_file.read_text().splitlines()[0])
        return None

    def kill(self) -> None:
        """SIGKILL the postmaster and every backend: connections die mid-transaction, as in a crash."""
        pid = self.pid()
        if pid is None:
            return
        subprocess.run(["pkill", "-KILL", "-P", str(pid)], check=False)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop", check=False)


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    """A started throwaway server, stopped and deleted afterwards."""
    bin_dir = _bin_dir()
    assert bin_dir is not None, available()
    with tempfile.TemporaryDirectory(prefix="dlfbot-pg-") as folder:
        data_dir = Path(folder) / "data"
        if os.geteuid() == 0:
            os.chmod(folder, 0o755)
            data_dir.mkdir(mode=0o700)
            shutil.chown(data_dir, "postgres", "postgres")
        server = ThrowawayPostgres(data_dir=data_dir, port=_free_port(), bin_dir=bin_dir)
        server.init()
        server.start()
        try:
            yield server
        finally:
            server.stop()
            server.kill()


__all__ = ["ThrowawayPostgres", "available", "throwaway_postgres"]
