"""How the ``otel-meta`` commands talk to the terminal: JSON on stdout, errors on stderr with status 2.

Every command reports a bad flag, a missing input or a refused operation as one line
``otel-meta <command>: <reason>`` on stderr and exits 2; ``--json`` output is indented JSON on stdout.
Names and text that came from traces (agent and tool names, versions, messages) go through ``inert``
before they reach the terminal, so an escape sequence or a bidi control in a span cannot rewrite it.
"""

from __future__ import annotations

import json
import logging
import sys
import unicodedata
from pathlib import Path
from typing import Any

#: The exit status of a command refused for bad flags or input.
USAGE_ERROR = 2

# Unicode categories that change how a terminal shows text instead of showing a character: control
# characters (ESC, CR, BS, DEL, C1), format characters (bidi embeddings, overrides and isolates, zero-width
# joiners) and the line and paragraph separators.
_ACTIVE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def inert(text: object) -> str:
    """``text`` as a string that a terminal shows as written: every control, format (bidi) or separator
    character is replaced by its Python escape (``\\x1b``, ``\\u202e``, ``\\n``). Printable text, accents
    and other scripts pass through unchanged."""
    s = str(text)
    if all(unicodedata.category(c) not in _ACTIVE_CATEGORIES for c in s):
        return s
    return "".join(
        repr(c)[1:-1] if c != "\\" and unicodedata.category(c) in _ACTIVE_CATEGORIES else c for c in s
    )


class InertFormatter(logging.Formatter):
    """A log formatter whose records reach the terminal ``inert`` (a traceback keeps its lines)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return inert(super().formatMessage(record))


def fail(command: str, reason: object) -> int:
    """Print ``otel-meta <command>: <reason>`` on stderr; return ``USAGE_ERROR`` for the command to return.

    The reason is made ``inert``, so it is always one line; an empty ``command`` prints ``otel-meta: <reason>``."""
    print(f"otel-meta{' ' if command else ''}{command}: {inert(reason)}", file=sys.stderr)
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
