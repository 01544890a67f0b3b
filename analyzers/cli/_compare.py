"""``otel-meta compare``: success rate per prompt version, with 95% intervals and significance."""

from __future__ import annotations

import argparse
from typing import Any

from analyzers.cli._console import fail, inert, print_json, store_missing
from analyzers.store import DB_HELP, db_location, open_store


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="success rate per prompt version",
        description="Per prompt version: runs with a known outcome, success rate with a 95% Wilson score "
        "interval, and Fisher's exact test (two-sided, alpha 0.05) between consecutive versions, or "
        "between V1 and V2 when given.",
    )
    parser.add_argument("--db", required=True, type=db_location, help=DB_HELP)
    parser.add_argument("--agent", required=True, help="the agent")
    parser.add_argument("versions", nargs="*", metavar="V", help="optionally two versions: V1 V2")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analyzers.errors import UnknownAgentError, UnknownVersionError
    from analyzers.guidelines import compare_versions
    from analyzers.guidelines.compare import version_stats

    if len(args.versions) not in (0, 2):
        return fail("compare", "give no versions or exactly two (V1 V2)")
    if store_missing("compare", args.db):
        return 2
    v1, v2 = (v.removeprefix("v") for v in args.versions) if args.versions else (None, None)
    with open_store(args.db) as store:
        if args.agent not in (agents := store.agents()):
            raise UnknownAgentError.naming(args.agent, agents)
        runs = list(store.iter_runs(args.agent))
    known = {s.version for s in version_stats(runs) if s.version is not None}
    for version in (v1, v2):
        if version is not None and version not in known:
            raise UnknownVersionError.naming(args.agent, version, known)
    result = compare_versions(runs, args.agent, v1, v2)
    if args.json:
        print_json(result.to_json())
        return 0
    if not result.versions:
        print(inert(f"{args.agent}: no runs with a known outcome"))
        return 0
    print(f"{'VERSION':12}  {'RUNS':>6}  {'SUCCESS':>8}  95% CI (Wilson)")
    for v in result.versions:
        low, high = v.interval
        print(inert(f"{v.version or '-':12}  {v.runs:6d}  {v.success_rate:8.1%}  [{low:.1%}, {high:.1%}]"))
    for d in result.differences:
        verdict = "significant" if d.significant else "not significant"
        print(inert(
            f"{d.older or '-'} -> {d.newer or '-'}: p = {d.p_value:.4f} "
            f"(Fisher's exact test, two-sided), {verdict} at alpha {result.alpha}"
        ))
    return 0
