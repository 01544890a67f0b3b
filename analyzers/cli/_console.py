"""How the ``otel-meta`` commands talk to the terminal: JSON on stdout, errors on stderr with status 2.

Every command reports a bad flag, a missing input or a refused operation as one line
``otel-meta <command>: <reason>`` on stderr and exits 2; ``--json`` output is indented JSON on stdout.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

#: The exit status of a command refused for bad flags or input.
USAGE_ERROR = 2


def fail(command: str, reason: object) -> int:
    """Print ``otel-meta <command>: <reason>`` on stderr; return ``USAGE_ERROR`` for the command to return."""
    print(f"otel-meta {command}: {reason}", file=sys.stderr)
    return USAGE_ERROR


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout (the ``--json`` output of every command)."""
    print(json.dumps(data, indent=2))


def store_missing(command: str, db: Path | str, hint: str = "") -> bool:
    """``True``, after saying ``no store at <db><hint>`` on stderr, when there is no file at ``db``.

    Read-only commands check this before opening ``SqliteStore``, which would create an empty store.
    A PostgreSQL URL is never missing here: opening it says whether the server has the database."""
    if isinstance(db, str) or db.exists():
        return False
    fail(command, f"no store at {db}{hint}")
    return True
