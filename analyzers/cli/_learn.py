"""``otel-meta learn``: one learning cycle over a store, writing guidelines into the prompts repo."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from analyzers.cli._console import fail, inert, print_json, store_missing
from analyzers.errors import OtelMetaError
from analyzers.store import DB_HELP, db_location, open_store


def register(subparsers: Any) -> None:
    from analyzers.orchestrator.service import add_rollout_arguments

    parser = subparsers.add_parser(
        "learn",
        help="mine runs and write guidelines (one cycle)",
        description="One learning cycle: for each agent added to the prompts repo (otel-meta prompts "
        "add-agent) with enough runs with a known outcome, decide the candidate version out beside the "
        "stable one (promote, reject or wait), mine patterns and commit the guideline changes as a new "
        "candidate. Agents with runs but no prompt file are listed with the command that adds them. The "
        "cycle is added to the state file that `otel-meta status` reads.",
    )
    parser.add_argument("--db", required=True, type=db_location, help=DB_HELP)
    parser.add_argument("--prompts-repo", required=True, type=Path, help="the git prompts repo")
    parser.add_argument("--agent", action="append", default=None, help="only this agent (repeatable)")
    parser.add_argument("--min-traces", type=int, default=10, help="runs with an outcome needed (default 10)")
    parser.add_argument("--confidence-threshold", type=float, default=0.7, help="default 0.7")
    parser.add_argument(
        "--no-auto-update",
        action="store_true",
        help="commit to a proposals/<agent>/v<version> branch instead of main",
    )
    parser.add_argument("--no-backup", action="store_true", help="do not tag <agent>/original")
    parser.add_argument(
        "--auto-rollback",
        action="store_true",
        help="with rollout off (--candidate-fraction 0): roll back a version significantly worse "
        "than its predecessor",
    )
    parser.add_argument("--config", type=Path, default=None,
                        help="MetaAgent YAML config for the rollout settings and the state file "
                             "(default META_AGENT_CONFIG_FILE)")
    add_rollout_arguments(parser)
    parser.add_argument(
        "--rewrite-model",
        default=None,
        help="rewrite new guidelines with this chat model (validated; off by default)",
    )
    parser.add_argument(
        "--rewrite-base-url",
        default=None,
        help="OpenAI-compatible endpoint of the rewrite model (key: OPENAI_API_KEY)",
    )
    parser.add_argument("--json", action="store_true", help="print the cycle report as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import time

    from analyzers.errors import UnknownAgentError
    from analyzers.guidelines import PromptsRepo
    from analyzers.guidelines.prompt_file import validate_agent_name
    from analyzers.orchestrator.cycle import run_cycle
    from analyzers.orchestrator.record import record_cycle
    from analyzers.orchestrator.service import config_from_args

    try:
        for agent in args.agent or ():
            validate_agent_name(agent)
    except OtelMetaError as exc:
        return fail("learn", f"--agent: {exc}")
    if store_missing("learn", args.db):
        return 2
    if not 0.0 <= args.confidence_threshold <= 1.0 or args.min_traces < 1:
        return fail("learn", "--confidence-threshold must be in [0, 1] and --min-traces >= 1")
    try:
        config = config_from_args(args)
        rewriter = _rewriter(args)
        started = time.time()
        repo = PromptsRepo(args.prompts_repo)
        with open_store(args.db) as store:
            in_store = store.agents()
            for agent in args.agent or ():
                if agent not in in_store:
                    raise UnknownAgentError.naming(agent, in_store)
            # only agents a person added get guidelines: a prompt file is never invented for the others
            # (names that cannot have a file go on to the cycle, which says why it skips them)
            added = set(repo.agents())
            wanted = sorted(set(args.agent or in_store))
            not_added = [a for a in wanted if a not in added and _valid_name(a)]
            report = run_cycle(
                store,
                repo,
                agents=[a for a in wanted if a not in not_added],
                min_traces=args.min_traces,
                confidence_threshold=args.confidence_threshold,
                auto_update=not args.no_auto_update,
                backup_original=not args.no_backup,
                auto_rollback=args.auto_rollback,
                rewrite=rewriter,
                progress=lambda line: print(inert(line), file=sys.stderr, flush=True),
                rollout=config.rollout(),
            )
            state, _ = record_cycle(config.resolved_state_file(), report, store, config.to_json(), started=started)
    except (OtelMetaError, ValueError) as exc:
        return fail("learn", exc)
    if args.json:
        print_json({**report.to_json(), "not_added": not_added})
        return 0
    if not report.agents and not not_added:
        print("no agents with runs")
    for agent in not_added:
        print(inert(f"{agent}: not in the prompts repo, so no guidelines; add it with: otel-meta prompts "
                    f"add-agent {args.prompts_repo} {agent} --base-prompt-file FILE"))
    for a in report.agents:
        if a.skipped:
            print(inert(f"{a.agent}: skipped ({a.skipped})"))
            continue
        if a.rollout:
            print(inert(f"{a.agent}: candidate v{a.rollout.candidate.version}: {a.rollout.action}: {a.rollout.reason}"))
            if a.rollout.action == "wait":
                continue
        where = a.tag or a.branch or ""
        done = (
            f"v{a.version} commit {a.commit[:12]} {where}".rstrip()
            if a.commit
            else f"v{a.version}, no change"
        )
        print(inert(f"{a.agent}: {a.runs_analysed} runs, {a.patterns_found} patterns -> {done}"))
        if a.rollback:
            print(
                f"  rolled back v{a.rollback.from_version} to v{a.rollback.to_version} "
                f"(p = {a.rollback.p_value:.4f})"
            )
        for sign, changes in (("+", a.applied), ("-", a.retired)):
            for c in changes:
                print(inert(
                    f"  {sign} {c.pattern_type} {c.pattern_id}: confidence {c.confidence:.2f}, "
                    f"support {c.support}" + (f" ({c.reason})" if sign == "-" else "")
                ))
        if a.commit and a.text_source:
            print(f"  guideline text: {'LLM rewrite' if a.text_source == 'llm' else 'templates'}")
    print(f"learning cycle {state.learning_cycles} (recorded in {config.resolved_state_file()})")
    return 0


def _valid_name(agent: str) -> bool:
    from analyzers.guidelines.prompt_file import validate_agent_name

    try:
        validate_agent_name(agent)
    except OtelMetaError:
        return False
    return True


def _rewriter(args: argparse.Namespace) -> Any:
    if not args.rewrite_model:
        return None
    import openai

    from analyzers.guidelines import GuidelineRewriter

    try:
        client = openai.OpenAI(base_url=args.rewrite_base_url, max_retries=1, timeout=60.0)
    except openai.OpenAIError as exc:
        raise ValueError(f"cannot create the rewrite client ({exc}); set OPENAI_API_KEY") from None
    return GuidelineRewriter(client, args.rewrite_model)
