"""A real PostgreSQL server for the tests: ``initdb`` + ``pg_ctl`` in a temporary directory, on 127.0.0.1.

The server binaries come from the Debian ``postgresql`` package (``.ci/run`` installs it) or any
``initdb`` on ``PATH``. PostgreSQL refuses to run as root, so under root the server runs as the
unprivileged ``postgres`` user (``nobody`` when that user does not exist) through ``runuser``.
``PostgresServer.find()`` returns ``None``, with the reason in ``why_missing``, when no server can be had.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

why_missing = ""


def _bin_dir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One running server; ``url(dbname)`` gives a ``postgresql://`` URL, ``new_database()`` a fresh one."""

    def __init__(self, bin_dir: Path, root: Path) -> None:
        self.bin_dir = bin_dir
        self.root = root
        self.data = root / "data"
        self.port = _free_port()
        self.user = "otel"
        self._names = itertools.count(1)
        self._as: list[str] = []
        if os.geteuid() == 0:
            account = "postgres" if _has_user("postgres") else "nobody"
            self._as = ["runuser", "-u", account, "--"]
            shutil.chown(root, account)
            os.chmod(root, 0o700)
        self._run("initdb", "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8",
                  "--no-instructions")  # fsync=off below: the tests kill analyzers, never this server
        self._run("pg_ctl", "-D", str(self.data), "-l", str(root / "server.log"), "-w", "-t", "60", "-o",
                  f"-p {self.port} -c listen_addresses=127.0.0.1 -k {root} -c max_connections=200 -c fsync=off",
                  "start")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self._as, str(self.bin_dir / tool), *args], check=True, capture_output=True,
                       cwd=self.root)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def new_database(self) -> str:
        """A fresh empty database's URL."""
        import psycopg

        name = f"test_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    @classmethod
    def find(cls) -> PostgresServer | None:
        """A started server, or ``None`` (the reason in ``why_missing``)."""
        global why_missing
        try:
            import psycopg  # noqa: F401
        except ImportError:
            why_missing = "psycopg is not installed (pip install -e '.[postgres]')"
            return None
        bin_dir = _bin_dir()
        if bin_dir is None:
            why_missing = "no PostgreSQL server binaries (apt-get install postgresql)"
            return None
        root = Path(tempfile.mkdtemp(prefix="otel-meta-pg-"))
        try:
            return cls(bin_dir, root)
        except (subprocess.CalledProcessError, OSError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            why_missing = f"PostgreSQL could not start: {exc} {detail.decode(errors='replace')[-300:]}"
            shutil.rmtree(root, ignore_errors=True)
            return None


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
