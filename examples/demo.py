"""``make demo``: the whole learning loop on embedded defaults, in about a minute.

1. creates a prompts repo with the SRE agent's base prompt (``otel-meta prompts init`` / ``add-agent``);
2. starts the analyzer (``otel-meta serve``) on free ports with a SQLite store;
3. for each round, runs the simulated SRE agent in its own process (it loads the current prompt and
   ships its spans over OTLP), then one learning cycle (``otel-meta learn``) that may commit a new
   prompt version;
4. prints the success rate per prompt version with intervals (``otel-meta compare``), the guideline
   commits, the final prompt and where to look next, and writes ``report.html``.

    python -m examples.demo [--rounds 6] [--episodes 80] [--seed 7] [--output-dir demo-output]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from examples.analyzer_process import OTEL_META, AnalyzerProcess
from examples.sre_agent.prompt import BASE_PROMPT

AGENT = "hotel-sre"
REPO_ROOT = Path(__file__).resolve().parents[1]
RUNS_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class DemoConfig:
    """The demo's knobs. The defaults are what ``make demo`` runs."""

    rounds: int = 6
    episodes: int = 80
    seed: int = 7
    output_dir: Path = Path("demo-output")
    min_traces: int = 10
    confidence_threshold: float = 0.7


@dataclass(frozen=True)
class RoundResult:
    round_index: int
    prompt_version: str
    episodes: int
    successes: int
    learned_version: str | None
    applied: int
    retired: int


@dataclass(frozen=True)
class DemoResult:
    """Where the demo left its artefacts and what it measured."""

    db: Path
    prompts_repo: Path
    report: Path
    rounds: tuple[RoundResult, ...]
    comparison: dict[str, Any]
    git_log: str
    final_prompt: str


def _run(args: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
         timeout: float = 300.0) -> str:
    proc = subprocess.run(list(args), capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited with {proc.returncode}:\n{proc.stderr[-3000:]}")
    return proc.stdout


def _runnable(script: Path) -> str:
    """``script`` as a user types it here: relative to the current directory when inside it."""
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def _otel_meta(*args: str) -> str:
    return _run([*OTEL_META, *args])


def _fresh_output(out: Path) -> tuple[Path, Path]:
    """Make ``out`` ready for a new run: remove what an earlier demo left (only the demo's own files)."""
    out.mkdir(parents=True, exist_ok=True)
    db, repo = out / "spans.db", out / "prompts"
    for leftover in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), out / "report.html", out / "serve.log"):
        leftover.unlink(missing_ok=True)
    if repo.exists():
        import shutil

        shutil.rmtree(repo)
    return db, repo


def _wait_for_runs(base_url: str, expected: int, timeout: float = RUNS_TIMEOUT_S) -> int:
    """Poll the analyzer until ``expected`` runs of the agent have an outcome (bounded)."""
    deadline = time.monotonic() + timeout
    found = 0
    while True:
        reply = httpx.get(f"{base_url}/api/runs", params={"agent": AGENT, "limit": 10_000}, timeout=10)
        reply.raise_for_status()
        found = sum(1 for r in reply.json() if r.get("outcome") is not None)
        if found >= expected:
            return found
        if time.monotonic() > deadline:
            raise RuntimeError(f"the analyzer holds {found} of {expected} runs after {timeout}s")
        time.sleep(0.2)


def _agent_env(base_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        OTEL_SERVICE_NAME="hotel-sre-agent",
        OTEL_EXPORTER_OTLP_ENDPOINT=base_url,
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        OTEL_TRACES_SAMPLER="always_on",
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p),
    )
    env.pop("OTEL_SDK_DISABLED", None)
    env.pop("OTEL_META_ANALYZER_ENDPOINT", None)
    return env


def run_demo(config: DemoConfig = DemoConfig(), *, echo: Callable[[str], None] = print) -> DemoResult:
    """Run the whole demo (see the module docstring) and return what it produced."""
    from analyzers.mining import mine_patterns
    from analyzers.report import ReportCommit, VersionRate, write_report
    from analyzers.store.sqlite import SqliteStore
    from otel_meta._prompts import load_prompt

    started = time.monotonic()
    out = config.output_dir.resolve()
    db, repo = _fresh_output(out)
    base_prompt = out / "base_prompt.txt"
    base_prompt.write_text(BASE_PROMPT, encoding="utf-8")
    _otel_meta("prompts", "init", str(repo))
    _otel_meta("prompts", "add-agent", str(repo), AGENT, "--base-prompt-file", str(base_prompt))
    echo(f"prompts repo {repo}: agent {AGENT} v1.0.0 (base prompt, no learned guidelines)")

    rounds: list[RoundResult] = []
    with AnalyzerProcess(db, out / "serve.log") as analyzer:
        assert analyzer.listening is not None
        base_url = analyzer.listening.base_url
        echo(f"analyzer listening on {base_url} (OTLP/HTTP + REST), gRPC {analyzer.listening.grpc}, store {db}")
        env = _agent_env(base_url)
        for r in range(config.rounds):
            line = _run([sys.executable, "-m", "examples.sre_agent", "--prompts-repo", str(repo),
                         "--episodes", str(config.episodes), "--seed", str(config.seed), "--round", str(r)],
                        env=env, cwd=REPO_ROOT).strip().splitlines()[-1]
            summary = json.loads(line)
            _wait_for_runs(base_url, config.episodes * (r + 1))
            report = json.loads(_otel_meta(
                "learn", "--db", str(db), "--prompts-repo", str(repo), "--agent", AGENT, "--json",
                "--min-traces", str(config.min_traces), "--confidence-threshold", str(config.confidence_threshold),
            ))
            agent_report: dict[str, Any] = next((a for a in report["agents"] if a["agent"] == AGENT), {})
            learned = agent_report.get("version") if agent_report.get("commit") else None
            result = RoundResult(r, summary["prompt_version"], summary["episodes"], summary["successes"], learned,
                                 len(agent_report.get("applied", [])), len(agent_report.get("retired", [])))
            rounds.append(result)
            change = (f"committed v{learned} (+{result.applied} / -{result.retired} guidelines)" if learned
                      else "no change" + (f" ({agent_report['skipped']})" if agent_report.get("skipped") else ""))
            echo(f"round {r + 1}/{config.rounds}: prompt v{result.prompt_version}: "
                 f"{result.successes}/{result.episodes} incidents resolved "
                 f"({result.successes / max(result.episodes, 1):.0%}); learning cycle: {change}")

    compare_text = _otel_meta("compare", "--db", str(db), "--agent", AGENT)
    comparison = json.loads(_otel_meta("compare", "--db", str(db), "--agent", AGENT, "--json"))
    git_log = _run(["git", "-C", str(repo), "log", "--oneline", "--decorate=short"])
    final = load_prompt(AGENT, repo=repo)
    with SqliteStore(db) as store:
        runs = [run for run in store.iter_runs(AGENT) if run.outcome is not None]
    patterns = mine_patterns(runs, AGENT, random_state=config.seed)
    versions = [
        VersionRate(str(v["version"]), int(v["runs"]), int(v["successes"]), float(v["ci95_low"]),
                    float(v["ci95_high"]))
        for v in comparison["versions"] if v["version"] is not None
    ]
    commits = [ReportCommit(*line.split(" ", 1)) for line in git_log.splitlines() if " " in line]
    report_path = write_report(out / "report.html", versions=versions, patterns=patterns, commits=commits,
                               agent=AGENT, interval_label=str(comparison.get("interval", "95% interval")))

    echo("\n== success rate per prompt version (otel-meta compare)")
    echo(compare_text.rstrip())
    echo("\n== guideline commits (git log --oneline in the prompts repo)")
    echo(git_log.rstrip())
    echo(f"\n== final prompt: {AGENT} v{final.version} ({final.commit[:12]})")
    echo(final.text.rstrip())
    echo(f"\n== report: {report_path}")
    echo("== where to look next")
    echo(f"  store:        {db}")
    echo(f"  prompts repo: {repo}")
    from analyzers.cli import _COMMANDS

    # the console script next to this interpreter, so each line runs as printed without activating a venv
    cli = _runnable(Path(sys.executable).parent / "otel-meta")
    commands = [
        f"{cli} serve --db {db}                       # the analyzer again, REST on :4318",
        f"{cli} runs --db {db} --agent {AGENT}",
        f"{cli} compare --db {db} --agent {AGENT}",
        f"{cli} history --prompts-repo {repo} --agent {AGENT}",
        f"{cli} diff --prompts-repo {repo} --agent {AGENT} 1.0.0 {final.version}",
        f"{cli} rollback --prompts-repo {repo} --agent {AGENT} --to 1.0.0",
        f"{cli} learn --db {db} --prompts-repo {repo}",
    ]
    if "patterns" in _COMMANDS:
        commands.insert(2, f"{cli} patterns --db {db} --agent {AGENT}")
    for command in commands:
        echo(f"  {command}")
    echo(f"(demo finished in {time.monotonic() - started:.0f}s)")
    return DemoResult(db, repo, report_path, tuple(rounds), comparison, git_log, final.text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m examples.demo", description=__doc__.splitlines()[0])
    defaults = DemoConfig()
    parser.add_argument("--rounds", type=int, default=defaults.rounds, help=f"rounds of episodes (default {defaults.rounds})")
    parser.add_argument("--episodes", type=int, default=defaults.episodes, help=f"episodes per round (default {defaults.episodes})")
    parser.add_argument("--seed", type=int, default=defaults.seed, help=f"seed of incidents and policy (default {defaults.seed})")
    parser.add_argument("--output-dir", type=Path, default=defaults.output_dir,
                        help="where the store, prompts repo and report go (default demo-output)")
    return parser


def config_from_args(args: argparse.Namespace) -> DemoConfig:
    if args.rounds < 1 or args.episodes < 1:
        raise SystemExit("--rounds and --episodes must be at least 1")
    return DemoConfig(rounds=args.rounds, episodes=args.episodes, seed=args.seed, output_dir=args.output_dir)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run_demo(config_from_args(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
