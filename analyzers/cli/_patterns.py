"""``otel-meta patterns``: mine the runs in a store now and print the patterns."""

from __future__ import annotations

import argparse
from typing import Any

from analyzers.cli._console import fail, inert, print_json, store_missing
from analyzers.model import Pattern
from analyzers.store import DB_HELP, db_location, open_store


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "patterns",
        help="mine the stored runs and print the patterns",
        description="Mine the runs in a store (no prompts repository needed) and print the findings, "
        "most confident first, then by effect: one block per finding (the patterns that say one thing). "
        "Confidence is one minus a weighted-Holm-adjusted one-sided p-value of no effect, within tasks "
        "when the runs repeat tasks; the effect is the difference in success rate with its 90% interval "
        "(see docs/mining.md).",
    )
    parser.add_argument("--db", required=True, type=db_location, help=DB_HELP)
    parser.add_argument("--agent", default=None, help="only this agent (default: every agent)")
    parser.add_argument("--min-confidence", type=float, default=0.0, metavar="X",
                        help="only patterns with confidence >= X (0..1, default 0)")
    parser.add_argument("--json", action="store_true",
                        help="print JSON (a list of patterns, one finding after another; each names its finding)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analyzers.errors import UnknownAgentError
    from analyzers.mining import group_findings, mine_store

    if store_missing("patterns", args.db, f" (import runs or start 'otel-meta serve --db {args.db}' first)"):
        return 2
    if not 0.0 <= args.min_confidence <= 1.0:
        return fail("patterns", "--min-confidence must be between 0 and 1")
    with open_store(args.db) as store:
        try:
            patterns = mine_store(store, args.agent, min_confidence=args.min_confidence)
        except UnknownAgentError as exc:
            return fail("patterns", exc)
    findings = group_findings(patterns)
    if args.json:
        print_json([dict(p.to_json(), finding=f.lead.id) for f in findings for p in f.patterns])
        return 0
    if not patterns:
        print("no patterns")
        return 0
    # SUPPORT counts the pattern's unit (runs, or calls for call-level kinds); SUCCESS is the rate of
    # the group that shows the pattern and VS the rate of the group the test compared it with; EFFECT
    # is the difference in success rate in points, with its 90% interval, within tasks or pooled.
    print(f"{'CONF':>6}  {'EFFECT [90% interval]':22}  {'SCOPE':10}  {'TYPE / KIND':41}  {'AGENT':18}  "
          f"{'SUPPORT':>11}  {'SUCCESS':>7}  {'VS':>4}  TOOLS")
    for f in findings:
        for i, p in enumerate(f.patterns):
            lead = "" if i == 0 else "  also "
            support = f"{p.frequency} {p.unit}"
            kind = f"{p.type} / {p.kind}"
            print(inert(f"{p.confidence:6.3f}  {_effect(p):22}  {_scope(p):10}  {lead + kind:41.41}  "
                        f"{p.agent[:18]:18}  {support:>11}  {p.success_rate:7.0%}  {p.compared_rate:4.0%}  "
                        f"{' -> '.join(p.tools) or '-'}"))
            if i == 0:
                print(inert(f"        {p.description}"))
            if p.withheld:
                print(inert(f"        {'TASK-CONFOUNDED' if p.task_confounded else 'no guideline'}: {p.withheld}"))
    return 0


def _effect(p: Pattern) -> str:
    if p.effect is None or p.effect_low is None or p.effect_high is None:
        return "-"
    return f"{100 * p.effect:+.0f} [{100 * p.effect_low:+.0f}, {100 * p.effect_high:+.0f}]"


def _scope(p: Pattern) -> str:
    return {"within_task": f"{p.tasks} tasks", "pooled": "pooled"}.get(p.scope, "-")
