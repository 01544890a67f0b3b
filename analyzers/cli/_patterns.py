"""``otel-meta patterns``: mine the runs in a store now and print the patterns."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from analyzers.cli._console import fail, inert, print_json, store_missing


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "patterns",
        help="mine the stored runs and print the patterns",
        description="Mine the runs in a store (no prompts repository needed) and print the patterns, "
        "most confident first. Confidence is one minus a weighted-Holm-adjusted one-sided p-value "
        "(see docs/mining.md).",
    )
    parser.add_argument("--db", required=True, type=Path, help="the SQLite store")
    parser.add_argument("--agent", default=None, help="only this agent (default: every agent)")
    parser.add_argument("--min-confidence", type=float, default=0.0, metavar="X",
                        help="only patterns with confidence >= X (0..1, default 0)")
    parser.add_argument("--json", action="store_true", help="print JSON (a list of patterns)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analyzers.errors import UnknownAgentError
    from analyzers.mining import mine_store
    from analyzers.store.sqlite import SqliteStore

    if store_missing("patterns", args.db, f" (import runs or start 'otel-meta serve --db {args.db}' first)"):
        return 2
    if not 0.0 <= args.min_confidence <= 1.0:
        return fail("patterns", "--min-confidence must be between 0 and 1")
    with SqliteStore(args.db) as store:
        try:
            patterns = mine_store(store, args.agent, min_confidence=args.min_confidence)
        except UnknownAgentError as exc:
            return fail("patterns", exc)
    if args.json:
        print_json([p.to_json() for p in patterns])
        return 0
    if not patterns:
        print("no patterns")
        return 0
    # SUPPORT counts the pattern's unit (runs, or calls for call-level kinds); SUCCESS is the rate of
    # the group that shows the pattern and VS the rate of the group the test compared it with.
    print(f"{'CONF':>6}  {'TYPE':19}  {'AGENT':18}  {'SUPPORT':>11}  {'SUCCESS':>7}  {'VS':>4}  TOOLS")
    for p in patterns:
        support = f"{p.frequency} {p.unit}"
        print(inert(f"{p.confidence:6.3f}  {p.type:19}  {p.agent[:18]:18}  {support:>11}  "
                    f"{p.success_rate:7.0%}  {p.compared_rate:4.0%}  {' -> '.join(p.tools) or '-'}"))
        print(inert(f"        {p.description}"))
    return 0
