"""``otel-meta runs``: list the runs assembled from the stored traces, newest first."""

from __future__ import annotations

import argparse
from typing import Any

from analyzers.cli._console import fail, inert, print_json, store_missing
from analyzers.store import DB_HELP, db_location, open_store


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "runs", help="list agent runs (newest first)",
        description="List the agent runs in a store, newest first. STEPS is the number of steps, then the "
                    "tool calls in order; a tool call that failed ends in '!' (get_logs!).",
    )
    parser.add_argument("--db", required=True, type=db_location, help=DB_HELP)
    parser.add_argument("--agent", default=None, help="only this agent's runs")
    parser.add_argument("--limit", type=int, default=20, help="at most N runs (default 20)")
    parser.add_argument("--pending", action="store_true", help="include runs whose root span has not arrived")
    parser.add_argument("--json", action="store_true", help="print JSON (a list of runs)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analyzers.errors import UnknownAgentError

    if store_missing("runs", args.db, f" (start 'otel-meta serve --db {args.db}' first)"):
        return 2
    if args.limit < 1:
        return fail("runs", "--limit must be at least 1")
    with open_store(args.db) as store:
        if args.agent is not None and args.agent not in (known := store.agents()):
            raise UnknownAgentError.naming(args.agent, known)
        runs = store.list_runs(args.agent, args.limit, include_pending=args.pending)
    if args.json:
        print_json([r.to_json() for r in runs])
        return 0
    if not runs:
        print("no runs")
        return 0
    print(f"{'TRACE ID':32}  {'AGENT':16}  {'OUTCOME':8}  {'FROM':10}  {'PROMPT':8}  {'STARTED':24}  {'MS':>9}"
          "  STEPS")
    for r in runs:
        tools = " ".join(s.name if s.ok else f"{s.name}!" for s in r.steps if s.kind == "tool")
        print(inert(f"{r.trace_id:32}  {r.agent[:16]:16}  {r.outcome_label or '-':8}  {r.outcome_source or '-':10}"
                    f"  {(r.prompt_version or '-')[:8]:8}  {r.started_at:24}  {r.duration_ms:9.1f}  "
                    f"{len(r.steps)} [{tools}]"))
    if any(not s.ok for r in runs for s in r.steps if s.kind == "tool"):
        print("(a tool call that failed ends in '!')")
    return 0
