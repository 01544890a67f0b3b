"""The ``otel-meta`` console script as a user runs it: a subprocess of the installed entry point."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

#: A log record on stderr: ours (``logging``'s format in ``analyzers.cli.main``) or gRPC core's (glog).
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ |[IWE]\d{4} \d\d:\d\d:\d\d)")

#: The console script pip installed next to this interpreter (``.venv/bin/otel-meta``).
OTEL_META = Path(sys.executable).parent / "otel-meta"


def otel_meta(*argv: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None,
              prefix: tuple[str, ...] = (), timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``otel-meta ARGV...`` and wait; ``prefix`` goes in front (e.g. a command that drops privileges)."""
    return subprocess.run(
        [*prefix, str(OTEL_META), *map(str, argv)], capture_output=True, text=True, timeout=timeout,
        check=False, cwd=cwd, env=dict(os.environ, **(env or {})),
    )


def one_error_line(proc: subprocess.CompletedProcess[str], command: str, *, logs: bool = False) -> str:
    """The single ``otel-meta <command>: …`` line of a refused command (exit 2, no traceback, nothing
    else on stderr; with ``logs``, log records are allowed beside it: ``serve`` logs INFO by default)."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if not (logs and LOG_LINE.match(line))]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"otel-meta {command}: "), lines[0]
    return lines[0]
