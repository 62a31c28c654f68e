"""A throwaway PostgreSQL server for the test session (real server, temporary data directory).

Debian keeps the server binaries in /usr/lib/postgresql/<version>/bin. initdb refuses to run as
root, so as root we run it as the ``postgres`` user via runuser.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_bindir() -> Path | None:
    """The newest PostgreSQL server bin directory on this machine, or None."""
    if shutil.which("pg_ctl"):
        return Path(shutil.which("pg_ctl")).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4])
    )
    return Path(candidates[-1]).parent if candidates else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """Start with :meth:`start`, stop with :meth:`stop`; ``url`` is a SQLAlchemy URL."""

    def __init__(self) -> None:
        bindir = find_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed: run `make test`, which installs it.")
        self.bindir = bindir
        self.tmp = Path(tempfile.mkdtemp(prefix="mlops-pg-"))
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        self.user = "postgres" if self.as_root else os.environ.get("USER", "postgres")
        if self.as_root:
            shutil.chown(self.tmp, "postgres", "postgres")

    def _run(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        cmd = ["runuser", "-u", "postgres", "--", *args] if self.as_root else list(args)
        return subprocess.run(cmd, check=True, capture_output=True, text=True, **kwargs)

    def start(self) -> str:
        data = self.tmp / "data"
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            self.user,
            "--no-sync",
        )
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.tmp} -c fsync=off -c max_connections=200"
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            opts,
            "-l",
            str(self.tmp / "log"),
            "-w",
            "start",
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/postgres"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user={self.user} dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        try:
            self._run(
                str(self.bindir / "pg_ctl"), "-D", str(self.tmp / "data"), "-m", "immediate", "stop"
            )
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
