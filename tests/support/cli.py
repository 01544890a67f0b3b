"""The ``otel-meta`` command line run in-process, for tests of the commands."""

from __future__ import annotations

import pytest

from analyzers.cli import main


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``otel-meta ARGV...``; return its exit status and what it printed on stdout and stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
