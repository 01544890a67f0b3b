"""``otel-meta serve`` as a child process on free ports, for the demo and the tests that run it."""

from __future__ import annotations

import logging
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

logger = logging.getLogger(__name__)

LISTENING_RE = re.compile(r"^otel-meta: listening http=(?P<http>\S+) grpc=(?P<grpc>\S+) db=(?P<db>.+)$")
#: How the demo runs the ``otel-meta`` command: with this interpreter, so the venv need not be on PATH.
OTEL_META = (sys.executable, "-m", "analyzers")


@dataclass(frozen=True)
class Listening:
    http: str
    grpc: str
    db: str

    @property
    def base_url(self) -> str:
        return f"http://{self.http}"


class AnalyzerProcess:
    """Start ``otel-meta serve --db DB --http-port 0 --grpc-port 0`` and wait for its listening line.

    Use as a context manager; ``stop()`` sends SIGTERM (the server finishes its writes and exits 0).
    The server's log goes to ``log_path``.
    """

    def __init__(self, db: Path, log_path: Path, *, start_timeout: float = 60.0) -> None:
        self.db = db
        self.log_path = log_path
        self.start_timeout = start_timeout
        self._proc: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None
        self._pump: threading.Thread | None = None
        self.listening: Listening | None = None

    def start(self) -> Listening:
        self._log = self.log_path.open("w", encoding="utf-8")
        self._proc = subprocess.Popen(
            [*OTEL_META, "serve", "--db", str(self.db), "--http-port", "0", "--grpc-port", "0"],
            stdout=subprocess.PIPE, stderr=self._log, text=True,
        )
        lines: queue.Queue[str | None] = queue.Queue()
        stdout = self._proc.stdout
        assert stdout is not None

        def pump() -> None:
            for line in stdout:
                lines.put(line.rstrip("\n"))
            lines.put(None)

        self._pump = threading.Thread(target=pump, name="otel-meta-serve-stdout", daemon=True)
        self._pump.start()
        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                line = lines.get(timeout=max(0.05, deadline - time.monotonic()))
            except queue.Empty:
                self.stop()
                raise RuntimeError(f"otel-meta serve did not report listening within {self.start_timeout}s; "
                                   f"see {self.log_path}") from None
            if line is None:
                code = self._proc.wait()
                raise RuntimeError(f"otel-meta serve exited with {code} before listening; see {self.log_path}")
            match = LISTENING_RE.match(line)
            if match:
                self.listening = Listening(match["http"], match["grpc"], match["db"])
                logger.debug("analyzer listening on %s", self.listening.base_url)
                return self.listening

    def stop(self, timeout: float = 30.0) -> int | None:
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self._pump is not None:
            self._pump.join(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()
        if self._log is not None:
            self._log.close()
        return proc.returncode

    def __enter__(self) -> AnalyzerProcess:  # noqa: PYI034 - Python 3.10 has no typing.Self
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
