"""``otel-meta status``: the MetaAgent's learning state, each agent's prompt version and success rates."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from analyzers.cli._console import fail, inert, print_json, store_missing
from analyzers.store import DB_HELP, db_location


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "status", help="show the learning state: cycles, patterns learned, prompt versions, success rates",
        description="Read the MetaAgent's state file, the store and the prompts repo; change nothing.",
    )
    parser.add_argument("--db", required=True, type=db_location, help=DB_HELP)
    parser.add_argument("--prompts-repo", required=True, type=Path, help="the git prompts repo")
    parser.add_argument("--config", type=Path, default=None,
                        help="MetaAgent YAML config (default META_AGENT_CONFIG_FILE)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def collect(args: argparse.Namespace) -> dict[str, Any]:
    """The status as JSON-ready data (see ``run``)."""
    from analyzers.orchestrator import MetaAgent
    from analyzers.orchestrator.service import config_from_args

    config = config_from_args(args)
    with MetaAgent(config, embedded=False) as agent:
        status = agent.get_learning_status()
        history = agent.get_guideline_history()
        current: dict[str, dict[str, Any]] = {}
        candidates: dict[str, dict[str, Any]] = {}
        for entry in history:
            if entry["state"] == "stable":
                current[entry["agent_type"]] = entry
            elif entry["state"] == "candidate":
                candidates[entry["agent_type"]] = entry
        last_cycle = agent.state.learning_cycles
        perf = [p for p in agent.state.performance_history if p.cycle == last_cycle]
        agents = []
        for name in sorted(set(agent.store.agents()) | set(current)):
            version = current.get(name)
            agents.append({
                "agent": name,
                "runs": agent.store.count_runs(name),
                "prompt_version": version["version"] if version else None,
                "prompt_commit": version["commit"] if version else None,
                "candidate_version": candidates[name]["version"] if name in candidates else None,
                "performance": [p.to_json() for p in perf if p.agent == name],
            })
        return {
            "learning_status": status,
            "state_file": str(agent.state_file),
            "judge": "llm" if agent.judge.uses_llm else "heuristic",
            "agents": agents,
            "last_cycle": agent.state.last_cycle,
            "cycles": list(agent.state.cycles),
        }


def run(args: argparse.Namespace) -> int:
    if store_missing("status", args.db):
        return 2
    if not (args.prompts_repo / ".git").exists() and not (args.prompts_repo / "HEAD").exists():
        return fail("status", f"{args.prompts_repo} is not a prompts repo (create it with "
                    "`otel-meta prompts init`)")
    try:
        data = collect(args)
    except ValueError as exc:
        return fail("status", exc)
    if args.json:
        print_json(data)
        return 0
    s = data["learning_status"]
    print(f"learning cycles:        {s['learning_cycles']} (last: {s['last_learning_time'] or 'never'})")
    print(f"patterns learned:       {s['total_patterns_learned']}")
    print(f"runs since last cycle:  {s['runs_since_last_cycle']} "
          f"({'ready' if s['ready_for_learning'] else 'not ready'} for learning)")
    print(f"judge:                  {data['judge']}")
    print(f"state file:             {data['state_file']}")
    if not data["agents"]:
        print("no agents yet")
    for a in data["agents"]:
        version = f"v{a['prompt_version']} ({a['prompt_commit'][:10]})" if a["prompt_version"] else "no prompt file"
        perf = ", ".join(f"v{p['prompt_version']}: {p['success_rate']:.0%} of {p['runs']}"
                         if p["prompt_version"] else f"unversioned: {p['success_rate']:.0%} of {p['runs']}"
                         for p in a["performance"]) or "no cycle yet"
        print(inert(f"  {a['agent']:<20} runs {a['runs']:<6} stable {version:<24} success {perf}"))
        if a["candidate_version"]:
            print(f"  {'':<20} candidate v{a['candidate_version']} rolling out beside the stable version")
    for c in data["cycles"][-5:]:
        decided = "; ".join(f"{r['agent']} v{r['candidate']}: {r['action']}" for r in c.get("rollouts", []))
        commits = ", ".join(f"{x['agent']} v{x['version']}" for x in c.get("commits", []))
        print(inert(f"  cycle {c.get('cycle')} at {c.get('finished_at')}: "
                    f"{'committed ' + commits if commits else 'no commit'}" + (f"; {decided}" if decided else "")))
    return 0
