"""``otel-meta diff``: how an agent's prompt file changed between two versions."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from analyzers.cli._console import fail, inert
from analyzers.errors import OtelMetaError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="diff an agent's prompt between two versions",
        description="A unified diff of <agent>.yaml from version V1 to V2.",
    )
    parser.add_argument("--prompts-repo", required=True, type=Path, help="the git prompts repo")
    parser.add_argument("--agent", required=True, help="the agent")
    parser.add_argument("v1", metavar="V1", help="the older version, e.g. 1.0.1")
    parser.add_argument("v2", metavar="V2", help="the newer version")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analyzers.guidelines import PromptsRepo, version_diff

    try:
        text = version_diff(PromptsRepo(args.prompts_repo), args.agent, args.v1, args.v2)
    except OtelMetaError as exc:
        return fail("diff", exc)
    sys.stdout.write("".join(f"{inert(line)}\n" for line in text.splitlines()) if text else "no difference\n")
    return 0
