"""``otel-meta report``: the self-contained HTML report of one agent's versions, guidelines and patterns."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from analyzers.cli._console import fail, store_missing
from analyzers.errors import OtelMetaError
from analyzers.store import DB_HELP, db_location, open_store


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write the HTML report of an agent (versions, states, guidelines, patterns)",
        description="Write one self-contained HTML file (no external resources): success rate per prompt "
        "version with 95% Wilson intervals and Fisher's exact test between neighbours, each version's "
        "state (stable, candidate, rejected, rolled back, superseded) and why, the guidelines each "
        "version added or retired with their patterns and evidence trace ids, and the patterns mined now.",
    )
    parser.add_argument("--db", required=True, type=db_location, help=DB_HELP)
    parser.add_argument("--prompts-repo", required=True, type=Path, help="the git prompts repo")
    parser.add_argument("--agent", required=True, help="the agent")
    parser.add_argument("--output", type=Path, default=Path("report.html"), help="default report.html")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analyzers.guidelines import PromptsRepo, validate_agent_name
    from analyzers.mining import mine_patterns
    from analyzers.report import agent_report

    if store_missing("report", args.db):
        return 2
    try:
        validate_agent_name(args.agent)
        repo = PromptsRepo(args.prompts_repo)
        with open_store(args.db) as store:
            runs = list(store.iter_runs(args.agent))
        known = [r for r in runs if r.outcome is not None]
        patterns = mine_patterns(known, args.agent) if known else []
        path = agent_report(args.output, runs, repo, args.agent, patterns)
    except (OtelMetaError, OSError) as exc:
        return fail("report", exc)
    print(f"{args.agent}: report written to {path}")
    return 0
