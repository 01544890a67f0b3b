"""``otel-meta history``: an agent's prompt versions, oldest first."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from analyzers.cli._console import fail, inert, print_json
from analyzers.errors import OtelMetaError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "history",
        help="an agent's prompt versions (oldest first)",
        description="List the commits that changed an agent's prompt file.",
    )
    parser.add_argument("--prompts-repo", required=True, type=Path, help="the git prompts repo")
    parser.add_argument("--agent", required=True, help="the agent")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print JSON: [{version, commit, date, subject, patterns_applied, patterns_retired, state, why}]; "
        "state is stable, candidate, rejected, rolled back or superseded",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analyzers.guidelines import PromptsRepo, prompt_history

    try:
        entries = prompt_history(PromptsRepo(args.prompts_repo), args.agent)
    except OtelMetaError as exc:
        return fail("history", exc)
    if args.json:
        print_json([e.to_json() for e in entries])
        return 0
    print(f"{'VERSION':10}  {'STATE':11}  {'COMMIT':12}  {'DATE':25}  SUBJECT")
    for e in entries:
        print(inert(f"{e.version:10}  {e.state:11}  {e.commit[:12]}  {e.date:25}  {e.subject}"))
    return 0
