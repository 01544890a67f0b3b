"""The ``otel-meta`` command line. One module per command, each with ``register(subparsers)``.

The library never configures logging; ``main`` does, from ``--log-level`` (or ``META_AGENT_LOG_LEVEL``),
given before or after the command. Commands log warnings and errors only unless asked; ``serve``, a
service, logs INFO too. Every error ``analyzers`` raises on purpose (``OtelMetaError``, ``StoreError``
among them) ends as one line ``otel-meta <command>: <reason>`` and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

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

_LOG_LEVEL_HELP = "DEBUG, INFO, WARNING or ERROR (default WARNING; INFO for serve; or META_AGENT_LOG_LEVEL)"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("otel-meta")
    except PackageNotFoundError:  # a source tree on sys.path, not installed
        return "unknown (not installed)"


def _add_log_level_everywhere(parser: argparse.ArgumentParser) -> None:
    """``--log-level`` on every (sub)command too, so it works after the command's name as well.

    ``SUPPRESS`` keeps a subcommand from resetting a value given before it."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                sub.add_argument("--log-level", default=argparse.SUPPRESS, help=_LOG_LEVEL_HELP)
                _add_log_level_everywhere(sub)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="otel-meta",
        description="Learn from LLM-agent traces and improve the agents' guidelines.",
    )
    parser.add_argument("--version", action="version", version=f"otel-meta {_version()}")
    parser.add_argument("--log-level", default=None, help=_LOG_LEVEL_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _COMMANDS:
        importlib.import_module(f"analyzers.cli._{name}").register(sub)
    _add_log_level_everywhere(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``otel-meta`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    from analyzers.cli._console import InertFormatter, fail

    command = ""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        command = args.command
        from analyzers.config import log_level

        try:
            level = log_level(args.log_level, default="INFO" if args.command == "serve" else "WARNING")
        except ValueError as exc:
            return fail(command, exc)
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(InertFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.basicConfig(level=level, handlers=[handler])
        from analyzers.errors import OtelMetaError

        try:
            return int(args.func(args) or 0)
        except OtelMetaError as exc:
            return fail(args.command, exc)
    except ModuleNotFoundError as exc:
        from analyzers import missing_extra_hint

        hint = missing_extra_hint(exc)
        if hint is None:
            raise
        return fail(command, hint)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
