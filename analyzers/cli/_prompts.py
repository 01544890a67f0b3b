"""``otel-meta prompts``: create a prompts repo, add an agent, list the agents."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from analyzers.cli._console import fail, inert, print_json
from analyzers.errors import OtelMetaError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "prompts", help="create and populate a git prompts repo", description="Manage the git prompts repo."
    )
    sub = parser.add_subparsers(dest="prompts_command", metavar="ACTION", required=True)
    init = sub.add_parser(
        "init", help="create a prompts repo (git init and a first commit)",
        description="Create a git prompts repo in DIR (a new or empty directory) with one empty first commit. "
                    "Add agents to it with `otel-meta prompts add-agent`.",
    )
    init.add_argument("dir", type=Path, metavar="DIR", help="a new or empty directory")
    init.add_argument("--branch", default="main", help="the branch versions live on (default main)")
    init.set_defaults(func=run_init)
    add = sub.add_parser(
        "add-agent", help="add <agent>.yaml as version 1.0.0 (commit and tag)",
        description="Write NAME.yaml with the base prompt and an empty learned-guidelines section, commit it "
                    "and tag it NAME/v1.0.0. Only added agents get guidelines from `otel-meta learn`; an "
                    "agent loads its prompt with otel_meta.load_prompt(NAME, repo=DIR).",
    )
    add.add_argument("dir", type=Path, metavar="DIR", help="the prompts repo")
    add.add_argument("name", help="agent name: ^[a-z0-9][a-z0-9_-]{0,63}$")
    add.add_argument("--base-prompt-file", type=Path, default=None, help="the human-written base prompt")
    add.set_defaults(func=run_add_agent)
    listing = sub.add_parser(
        "list", help="the agents and their current versions",
        description="List the agents in the prompts repo with their current version and number of guidelines.",
    )
    listing.add_argument("dir", type=Path, metavar="DIR", help="the prompts repo")
    listing.add_argument("--json", action="store_true", help="print JSON: [{agent, version, guidelines}]")
    listing.set_defaults(func=run_list)


def run_init(args: argparse.Namespace) -> int:
    from analyzers.guidelines import PromptsRepo

    if args.dir.exists() and (not args.dir.is_dir() or any(args.dir.iterdir())):
        what = "is not a directory" if not args.dir.is_dir() else "is not empty"
        return fail("prompts", f"{args.dir} {what}; give a new or empty directory (an existing prompts repo "
                    "needs no init: add agents with `otel-meta prompts add-agent`)")
    try:
        repo = PromptsRepo.init(args.dir, branch=args.branch)
    except OtelMetaError as exc:
        return fail("prompts", exc)
    print(f"created prompts repo {repo.path} (branch {repo.branch})")
    return 0


def run_add_agent(args: argparse.Namespace) -> int:
    from analyzers.guidelines import GuidelineWriter, PromptsRepo

    try:
        base = args.base_prompt_file.read_text(encoding="utf-8") if args.base_prompt_file else ""
        result = GuidelineWriter(PromptsRepo(args.dir)).add_agent(args.name, base)
    except (OtelMetaError, OSError, UnicodeDecodeError) as exc:
        return fail("prompts", exc)
    print(f"added {args.name} v{result.version} (commit {str(result.commit)[:12]}, tag {result.tag})")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from analyzers.guidelines import PromptsRepo

    try:
        repo = PromptsRepo(args.dir)
        files = [repo.require(agent) for agent in repo.agents()]
    except OtelMetaError as exc:
        return fail("prompts", exc)
    rows = [{"agent": f.agent, "version": f.version, "guidelines": len(f.guidelines)} for f in files]
    if args.json:
        print_json(rows)
        return 0
    for row in rows:
        print(inert(f"{row['agent']:24}  v{row['version']:10}  {row['guidelines']} guidelines"))
    return 0
