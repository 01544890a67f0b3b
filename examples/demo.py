"""``make demo``: the whole learning loop with its guard, on embedded defaults, in about a minute.

1. creates a prompts repo with the SRE agent's base prompt (``otel-meta prompts init`` / ``add-agent``);
   v1.0.0 is the stable version (tag ``hotel-sre/stable``);
2. starts the analyzer (``otel-meta serve``) on free ports with a SQLite store;
3. for each round, runs the simulated SRE agent in its own process (it loads the prompt once and each
   run follows the version its trace id drew: the candidate for half the runs while one is out, the
   stable version for the rest), then one learning cycle (``otel-meta learn``, default settings) that
   promotes, rejects or keeps waiting on the candidate and may commit a new one;
4. from round ``--teammate-round`` on, once learning has improved the stable version, a teammate adds a
   plausible-looking rule of thumb to it by hand and commits it as a candidate ("Avoid get_logs", "Avoid
   get_pods -> get_logs": it keeps the agent from reading the logs that tell the fault, so it really
   hurts); the rollout catches and rejects it;
5. prints the success rate per prompt version (``otel-meta compare``), each version's state
   (``otel-meta history``), the cycles (``otel-meta status``), what the guard did, the final prompt and
   where to look next, and writes ``report.html`` (``otel-meta report``).

    python -m examples.demo [--rounds 7] [--settle-rounds 3] [--episodes 100] [--seed 7] [--teammate-round 3] [--output-dir demo-output]
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

    rounds: int = 7
    episodes: int = 100
    seed: int = 7
    output_dir: Path = Path("demo-output")
    min_traces: int = 10
    confidence_threshold: float = 0.7
    teammate_round: int | None = 3
    #: Rounds added after ``rounds`` while a candidate is still undecided, so the demo ends on a
    #: measured decision rather than on a version half rolled out.
    settle_rounds: int = 3


@dataclass(frozen=True)
class RoundResult:
    """One round: the stable version it started with, each version's ``(episodes, successes)``, and
    what the learning cycle after it did (``decision``: promote/reject/wait on the candidate)."""

    round_index: int
    prompt_version: str
    episodes: int
    successes: int
    learned_version: str | None
    applied: int
    retired: int
    versions: dict[str, tuple[int, int]]
    candidate: str | None = None
    decision: str | None = None
    decision_reason: str | None = None


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
    history: tuple[dict[str, Any], ...] = ()
    teammate_version: str | None = None
    final_stable: str | None = None


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
    state = out / "spans.state.json"  # the learning cycles' record (otel-meta status)
    for leftover in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), state, out / "report.html", out / "serve.log"):
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


#: The teammate's rule of thumb, in two lines: plausible, and harmful in this world (the logs, read
#: right after get_pods, are what tell the fault).
TEAMMATE_LINES = (
    "Avoid get_logs: the logs are noisy, read the pod status and the metrics instead "
    "(a teammate's rule of thumb, not mined from runs)",
    "Avoid get_pods -> get_logs: do not open the logs straight from the pod list "
    "(a teammate's rule of thumb, not mined from runs)",
)
TEAMMATE_PATTERN_ID = "teammate-rule-1"


def _teammate_commits_a_guideline(repo: Path) -> str:
    """What a person does by hand: take the stable version's file, add a line, bump the version, roll
    it out as a candidate (``candidate_fraction``) and commit it on main (a candidate that was out is
    withdrawn: superseded). Returns the new version."""
    from analyzers.guidelines import Guideline, PromptsRepo
    from analyzers.guidelines.prompt_file import stable_tag
    from analyzers.guidelines.writer import next_version

    prompts = PromptsRepo(repo)
    stable = prompts.require(AGENT, stable_tag(AGENT))
    version = next_version(prompts, AGENT, stable.version)
    lines = tuple(Guideline(text, f"teammate-rule-{i}", "", 0.0, 0) for i, text in enumerate(TEAMMATE_LINES, 1))
    edited = stable.with_changes(version=version, guidelines=(*stable.guidelines, *lines), candidate_fraction=0.5)
    (repo / edited.filename).write_bytes(edited.dump())
    env = dict(os.environ, GIT_AUTHOR_NAME="A teammate", GIT_AUTHOR_EMAIL="teammate@example.org",
               GIT_COMMITTER_NAME="A teammate", GIT_COMMITTER_EMAIL="teammate@example.org")
    _run(["git", "-C", str(repo), "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgSign=false", "commit",
          "-q", "-am", f"{AGENT} v{version}: a teammate's rule of thumb, rolled out as a candidate"], env=env)
    return version


def _served(repo: Path) -> tuple[str, str | None]:
    """(stable version, candidate version or None) as ``load_prompt`` serves them now."""
    from analyzers.guidelines import PromptsRepo
    from analyzers.guidelines.rollout import read_rollout

    state = read_rollout(PromptsRepo(repo), AGENT)
    assert state is not None and state.stable is not None
    return state.stable.version, state.candidate.version if state.candidate else None


def _round_line(stable: str, candidate: str | None, versions: dict[str, tuple[int, int]]) -> str:
    parts = []
    for version, (n, k) in versions.items():
        role = "stable" if version == stable else "candidate" if version == candidate else "?"
        parts.append(f"v{version} ({role}) {k}/{n} resolved ({k / max(n, 1):.0%})")
    return ", ".join(parts)


def _cycle_line(agent_report: dict[str, Any]) -> str:
    said = []
    rollout = agent_report.get("rollout")
    if rollout:
        verdict = {"promote": "promoted to stable", "reject": "REJECTED", "wait": "waiting"}[rollout["action"]]
        ev = rollout["evidence"]
        said.append(f"candidate v{rollout['candidate']['version']} {verdict} "
                    f"(e-value {ev['e_value']:.1f} over {ev['pairs']} pairs; threshold 20)")
    if agent_report.get("commit") and not (rollout and rollout["action"] == "reject"
                                           and rollout.get("commit") == agent_report.get("commit")):
        said.append(f"committed candidate v{agent_report['version']} (+{len(agent_report.get('applied', []))} / "
                    f"-{len(agent_report.get('retired', []))} guidelines)")
    if agent_report.get("skipped"):
        said.append(f"skipped ({agent_report['skipped']})")
    return "; ".join(said) or "no change"


def run_demo(config: DemoConfig = DemoConfig(), *, echo: Callable[[str], None] = print) -> DemoResult:
    """Run the whole demo (see the module docstring) and return what it produced."""
    from otel_meta._prompts import load_prompt

    started = time.monotonic()
    out = config.output_dir.resolve()
    db, repo = _fresh_output(out)
    base_prompt = out / "base_prompt.txt"
    base_prompt.write_text(BASE_PROMPT, encoding="utf-8")
    _otel_meta("prompts", "init", str(repo))
    _otel_meta("prompts", "add-agent", str(repo), AGENT, "--base-prompt-file", str(base_prompt))
    echo(f"prompts repo {repo}: agent {AGENT} v1.0.0 (base prompt, no learned guidelines), tag {AGENT}/stable")
    echo("rollout (learn's defaults): each new version is a candidate for 50% of runs beside the stable one; "
         "every cycle compares them on the runs since the candidate's first run with an always-valid "
         "e-value test (promote or reject at e-value >= 20, i.e. alpha 0.05; at 200 runs each the "
         "measured rates decide)")

    rounds: list[RoundResult] = []
    teammate_version = None
    with AnalyzerProcess(db, out / "serve.log") as analyzer:
        assert analyzer.listening is not None
        base_url = analyzer.listening.base_url
        echo(f"analyzer listening on {base_url} (OTLP/HTTP + REST), gRPC {analyzer.listening.grpc}, store {db}")
        env = _agent_env(base_url)
        undecided = None
        for r in range(config.rounds + config.settle_rounds):
            stable, candidate = _served(repo)
            if r >= config.rounds:
                if r == config.rounds:
                    undecided = candidate
                if candidate is None or candidate != undecided:
                    break
                echo(f"-- candidate v{candidate} is still undecided after {r} rounds: one more round "
                     f"({config.rounds + config.settle_rounds - r} at most, while no measured decision is made)")
            if (teammate_version is None and config.teammate_round is not None and r >= config.teammate_round
                    and stable != "1.0.0"):
                withdrawn = f" (candidate v{candidate} is withdrawn)" if candidate else ""
                teammate_version = _teammate_commits_a_guideline(repo)
                rule = " / ".join(f'"{line}"' for line in TEAMMATE_LINES)
                echo(f"-- a teammate adds a rule of thumb to the stable v{stable} by hand and commits it on main as "
                     f"v{teammate_version}, a candidate for 50% of runs{withdrawn}: {rule}. It looks plausible, "
                     "but in this simulated world the logs read right after get_pods are what tell the fault, "
                     "and the agent obeys its guidelines: it hurts, and the rollout should catch it.")
                stable, candidate = _served(repo)
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
            rollout = agent_report.get("rollout") or {}
            learned = agent_report.get("version") if agent_report.get("commit") else None
            versions = {v: (int(n), int(k)) for v, (n, k) in summary["versions"].items()}
            result = RoundResult(r, stable, summary["episodes"], summary["successes"], learned,
                                 len(agent_report.get("applied", [])), len(agent_report.get("retired", [])),
                                 versions, candidate, rollout.get("action"), rollout.get("reason"))
            rounds.append(result)
            echo(f"round {r + 1}/{max(config.rounds, r + 1)}: {_round_line(stable, candidate, versions)}")
            echo(f"  learning cycle {r + 1}: {_cycle_line(agent_report)}")
            if rollout and rollout["action"] != "wait":
                echo(f"    why: {rollout['reason']}")
        stable, candidate = _served(repo)
        if candidate is not None and candidate == undecided:
            echo(f"-- candidate v{candidate} is still undecided after the {config.settle_rounds} settling rounds: "
                 f"no measured difference from stable v{stable} yet, so the agent stays on v{stable} and the "
                 "candidate keeps its share of runs until the test decides or the rollout budget (200 runs each) does")

    compare_text = _otel_meta("compare", "--db", str(db), "--agent", AGENT)
    comparison = json.loads(_otel_meta("compare", "--db", str(db), "--agent", AGENT, "--json"))
    history_text = _otel_meta("history", "--prompts-repo", str(repo), "--agent", AGENT)
    history = tuple(json.loads(_otel_meta("history", "--prompts-repo", str(repo), "--agent", AGENT, "--json")))
    status_text = _otel_meta("status", "--db", str(db), "--prompts-repo", str(repo))
    git_log = _run(["git", "-C", str(repo), "log", "--oneline", "--decorate=short"])
    final = load_prompt(AGENT, repo=repo)
    final_stable = final.stable if hasattr(final, "stable") else final
    report_path = out / "report.html"
    _otel_meta("report", "--db", str(db), "--prompts-repo", str(repo), "--agent", AGENT,
               "--output", str(report_path))

    echo("\n== success rate per prompt version (otel-meta compare)")
    echo(compare_text.rstrip())
    echo("\n== each version's state (otel-meta history)")
    echo(history_text.rstrip())
    echo("\n== learning cycles (otel-meta status)")
    echo(status_text.rstrip())
    echo("\n== guideline commits (git log --oneline in the prompts repo)")
    echo(git_log.rstrip())
    echo("\n== the guard")
    for line in _guard_lines(rounds, history, comparison, teammate_version, final_stable.version, db):
        echo(line)
    echo(f"\n== final prompt: {AGENT} v{final_stable.version} (stable, {final_stable.commit[:12]})")
    echo(final_stable.text.rstrip())
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
        f"{cli} diff --prompts-repo {repo} --agent {AGENT} 1.0.0 {final_stable.version}",
        f"{cli} report --db {db} --prompts-repo {repo} --agent {AGENT} --output report.html",
        f"{cli} rollback --prompts-repo {repo} --agent {AGENT} --to 1.0.0",
        f"{cli} learn --db {db} --prompts-repo {repo}",
    ]
    if "patterns" in _COMMANDS:
        commands.insert(2, f"{cli} patterns --db {db} --agent {AGENT}")
    for command in commands:
        echo(f"  {command}")
    echo(f"(demo finished in {time.monotonic() - started:.0f}s)")
    return DemoResult(db, repo, report_path, tuple(rounds), comparison, git_log, final_stable.text, history,
                      teammate_version, final_stable.version)


def _side_by_side(db: Path, stable: str) -> list[tuple[str, Any]]:
    """Each other version against the final stable one on the stable runs of the same period (the
    other version's first to last run), with the rollout's test."""
    from analyzers.guidelines.sequential import paired_evidence
    from analyzers.store.sqlite import SqliteStore

    with SqliteStore(db) as store:
        runs = sorted((r for r in store.iter_runs(AGENT) if r.outcome is not None),
                      key=lambda r: (r.started_at_unix_nano, r.trace_id))
    out = []
    for version in sorted({r.prompt_version for r in runs if r.prompt_version not in (None, stable)}):
        theirs = [r for r in runs if r.prompt_version == version]
        start, end = theirs[0].started_at_unix_nano, theirs[-1].started_at_unix_nano
        mine = [r for r in runs if r.prompt_version == stable and start <= r.started_at_unix_nano <= end]
        if mine:
            out.append((str(version), paired_evidence([bool(r.outcome) for r in theirs],
                                                      [bool(r.outcome) for r in mine])))
    return out


def _guard_lines(rounds: Sequence[RoundResult], history: Sequence[dict[str, Any]], comparison: dict[str, Any],
                 teammate_version: str | None, stable: str, db: Path) -> list[str]:
    """What the rollout did, in words: each decision, the teammate's candidate, and the final stable
    version against every version that ran beside it."""
    lines = []
    for r in rounds:
        if r.decision in ("promote", "reject"):
            verb = "promoted" if r.decision == "promote" else "REJECTED"
            lines.append(f"after round {r.round_index + 1}: candidate v{r.candidate} {verb}: {r.decision_reason}")
    states = {h["version"]: h["state"] for h in history}
    if teammate_version is not None:
        caught = states.get(teammate_version) == "rejected"
        lines.append(f"the teammate's candidate v{teammate_version}: "
                     + ("caught and rejected; the stable text was restored, and the patterns it added are "
                        "blocked until runs after the rejection support them again."
                        if caught else f"NOT rejected (state: {states.get(teammate_version)})."))
    rates = {v["version"]: v for v in comparison["versions"] if v["version"] is not None}
    mine = rates.get(stable)
    if mine:
        best = max(rates.values(), key=lambda v: (v["success_rate"], v["runs"]))
        lines.append(f"stable at the end: v{stable}, {mine['success_rate']:.0%} of {mine['runs']} runs; best "
                     f"measured rate over all runs: v{best['version']} {best['success_rate']:.0%} of {best['runs']}.")
    better = []
    for version, evidence in _side_by_side(db, stable):
        wins = 2 * evidence.candidate_wins > evidence.discordant
        if evidence.significant(0.05) and wins:
            better.append(version)
        lines.append(f"  v{version} beside v{stable} in v{version}'s period: {evidence.pairs} pairs, "
                     f"{evidence.candidate_wins} of {evidence.discordant} discordant won by v{version}, "
                     f"e-value {evidence.e_value:.2f}"
                     + (" (significantly better)" if evidence.significant(0.05) and wins else
                        " (significantly worse)" if evidence.significant(0.05) else ""))
    lines.append(f"keep-best: no version measured significantly better than stable v{stable} beside it."
                 if not better else f"keep-best VIOLATED: {', '.join('v' + v for v in better)} measured "
                 f"significantly better than stable v{stable}.")
    return lines


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m examples.demo", description=__doc__.splitlines()[0])
    defaults = DemoConfig()
    parser.add_argument("--rounds", type=int, default=defaults.rounds, help=f"rounds of episodes (default {defaults.rounds})")
    parser.add_argument("--episodes", type=int, default=defaults.episodes, help=f"episodes per round (default {defaults.episodes})")
    parser.add_argument("--seed", type=int, default=defaults.seed, help=f"seed of incidents and policy (default {defaults.seed})")
    parser.add_argument("--output-dir", type=Path, default=defaults.output_dir,
                        help="where the store, prompts repo and report go (default demo-output)")
    parser.add_argument("--settle-rounds", type=int, default=defaults.settle_rounds,
                        help="rounds added while a candidate is still undecided after --rounds "
                             f"(default {defaults.settle_rounds})")
    parser.add_argument("--teammate-round", type=int, default=defaults.teammate_round,
                        help=f"the earliest round (0-based) before which a teammate commits a harmful guideline "
                             f"as a candidate, once the stable version is a learned one "
                             f"(default {defaults.teammate_round}; -1: none)")
    return parser


def config_from_args(args: argparse.Namespace) -> DemoConfig:
    if args.rounds < 1 or args.episodes < 1 or args.settle_rounds < 0:
        raise SystemExit("--rounds and --episodes must be at least 1, --settle-rounds at least 0")
    teammate = args.teammate_round if args.teammate_round is not None and args.teammate_round >= 0 else None
    return DemoConfig(rounds=args.rounds, episodes=args.episodes, seed=args.seed, output_dir=args.output_dir,
                      teammate_round=teammate, settle_rounds=args.settle_rounds)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run_demo(config_from_args(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
