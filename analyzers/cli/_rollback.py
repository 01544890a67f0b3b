"""``otel-meta rollback``: restore an earlier version of an agent's prompt as a new version."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from analyzers.cli._console import fail, inert, print_json
from analyzers.errors import OtelMetaError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rollback",
        help="restore an earlier prompt version (a new commit)",
        description="Commit the content of an earlier version as a new patch version with its tag. "
        "History is never rewritten.",
    )
    parser.add_argument("--prompts-repo", required=True, type=Path, help="the git prompts repo")
    parser.add_argument("--agent", required=True, help="the agent")
    parser.add_argument("--to", required=True, dest="to_version", metavar="VERSION", help="e.g. 1.0.1")
    parser.add_argument("--reason", default=None, help="why (goes into the commit message)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analyzers.guidelines import GuidelineWriter, PromptsRepo

    try:
        result = GuidelineWriter(PromptsRepo(args.prompts_repo)).rollback(
            args.agent, args.to_version, reason=args.reason
        )
    except (OtelMetaError, ValueError) as exc:
        return fail("rollback", exc)
    if args.json:
        print_json(result.to_json())
    elif result.changed:
        print(inert(
            f"{args.agent}: v{result.version} restores v{args.to_version.removeprefix('v')} "
            f"(commit {str(result.commit)[:12]}, tag {result.tag})"
        ))
    else:
        print(inert(f"{args.agent}: v{result.version} already has that content; nothing to do"))
    return 0
