"""The ``otel-meta`` command line. One module per command, each with ``register(subparsers)``.

The library never configures logging; ``main`` does, from ``--log-level`` (or ``META_AGENT_LOG_LEVEL``).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Sequence

#: Command modules under ``analyzers.cli``, in the order ``--help`` lists them.
_COMMANDS = (
    "serve",
    "runs",
    "patterns",
    "import",
    "learn",
    "history",
    "diff",
    "rollback",
    "compare",
    "prompts",
    "status",
    "report",
    "demo",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="otel-meta",
        description="Learn from LLM-agent traces and improve the agents' guidelines.",
    )
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING or ERROR")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _COMMANDS:
        importlib.import_module(f"analyzers.cli._{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from analyzers.config import log_level

    try:
        level = log_level(args.log_level)
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
