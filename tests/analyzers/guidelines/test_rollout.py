"""Candidate rollout decided by the always-valid test: real SQLite runs, a real git prompts repo."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from scipy.special import gammaln

from analyzers.guidelines import GuidelineWriter, PromptsRepo, prompt_history
from analyzers.guidelines.rollout import RolloutSettings, read_rollout
from analyzers.guidelines.sequential import mixture_e_value, paired_evidence
from analyzers.orchestrator.cycle import run_cycle
from analyzers.store.sqlite import SqliteStore
from otel_meta._prompts import PromptRollout, PromptVersion, load_prompt
from tests.analyzers.guidelines.prompts_repo import BASE_PROMPT, git, make_pattern, refs
from tests.analyzers.guidelines.traces import RunSpec, record_runs


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    with SqliteStore(tmp_path / "runs.db", synchronous="NORMAL") as s:
        yield s


@pytest.fixture
def candidate(repo: PromptsRepo) -> PromptsRepo:
    """``diagnosis`` v1.0.0 stable, v1.0.1 (pattern sp-new) a candidate for half the runs."""
    GuidelineWriter(repo, candidate_fraction=0.5).write("diagnosis", [make_pattern("sp-new")])
    return repo


def _interleaved(candidate: list[bool], stable: list[bool]) -> list[RunSpec]:
    """Runs of the two versions alternating in time, as a rollout produces them."""
    specs: list[RunSpec] = []
    for i in range(max(len(candidate), len(stable))):
        if i < len(candidate):
            specs.append(RunSpec(("get_pods",), candidate[i], "1.0.1"))
        if i < len(stable):
            specs.append(RunSpec(("get_pods",), stable[i], "1.0.0"))
    return specs


def _rates(n: int, successes: int) -> list[bool]:
    """``successes`` of ``n`` spread evenly."""
    return [(i * successes) // n != ((i + 1) * successes) // n for i in range(n)]


def test_e_value_is_the_closed_form() -> None:
    assert mixture_e_value(0, 0) == 1.0
    assert mixture_e_value(12, 1) == pytest.approx(2**12 * 1 * 39916800 / 6227020800)  # 2^m k!(m-k)!/(m+1)!
    assert mixture_e_value(12, 1) == mixture_e_value(12, 11)  # two-sided
    evidence = paired_evidence([True, False, True, True], [False, False, True, False, True])
    assert (evidence.pairs, evidence.discordant, evidence.candidate_wins) == (4, 2, 2)


def _ever_significant(rng: np.random.Generator, p_candidate: float, p_stable: float, *, sequences: int,
                      pairs: int, look_every: int, alpha: float = 0.05) -> float:
    """The share of simulated rollouts whose e-value reaches 1/alpha at any look."""
    c = rng.random((sequences, pairs)) < p_candidate
    s = rng.random((sequences, pairs)) < p_stable
    m = np.cumsum(c != s, axis=1)[:, look_every - 1::look_every]
    k = np.cumsum(c & ~s, axis=1)[:, look_every - 1::look_every]
    log_e = m * np.log(2.0) + gammaln(k + 1) + gammaln(m - k + 1) - gammaln(m + 2)
    return float((log_e >= np.log(1 / alpha)).any(axis=1).mean())


def test_the_test_stays_valid_when_looked_at_every_cycle_and_finds_a_real_difference() -> None:
    rng = np.random.default_rng(0)
    # no difference: looked at after every 10 pairs for 500 pairs, it errs at most alpha of the time
    for p in (0.3, 0.7, 0.95):
        assert _ever_significant(rng, p, p, sequences=4000, pairs=500, look_every=10) <= 0.05
    # a candidate that hurts (90% -> 50%) is caught within 60 pairs almost always
    assert _ever_significant(rng, 0.5, 0.9, sequences=2000, pairs=60, look_every=10) >= 0.9


def test_a_worse_candidate_is_rejected_restoring_the_stable_text_and_blocking_its_patterns(
    store: SqliteStore, candidate: PromptsRepo
) -> None:
    stable_commit = git(candidate.path, "rev-parse", "diagnosis/stable")
    record_runs(store, "diagnosis", _interleaved(_rates(30, 8), _rates(30, 28)))
    report = run_cycle(store, candidate, min_traces=10)
    decision = report.agents[0].rollout
    assert decision is not None and decision.action == "reject", decision
    assert decision.evidence.e_value >= 20 and "significantly worse" in decision.reason
    assert (decision.candidate.runs, decision.stable.runs) == (30, 30)
    # a new commit restores the stable file (same version); the stable tag did not move
    rejection = decision.commit
    assert rejection is not None and git(candidate.path, "rev-parse", "diagnosis/stable") == stable_commit
    restored = candidate.require("diagnosis", rejection)
    assert restored.dump() == candidate.require("diagnosis", stable_commit).dump()
    message = git(candidate.path, "log", "-1", "--format=%B", rejection)
    assert message.startswith("diagnosis v1.0.0: reject candidate v1.0.1, restore stable v1.0.0")
    assert "Otel-Meta-Rejected: 1.0.1" in message and "Otel-Meta-Blocked: sp-new" in message
    assert "e-value" in message and "until runs recorded after this commit" in message
    # the stable version is served again (the same cycle may have written a next candidate, without sp-new)
    served = load_prompt("diagnosis", repo=candidate.path)
    stable = served.stable if isinstance(served, PromptRollout) else served
    assert isinstance(stable, PromptVersion) and (stable.version, stable.role) == ("1.0.0", "stable")
    assert "sp-new" not in {g.pattern_id for g in candidate.require("diagnosis").guidelines}
    states = {(e.version, e.state) for e in prompt_history(candidate, "diagnosis")}
    assert ("1.0.1", "rejected") in states and ("1.0.0", "stable") in states
    # the blocked pattern does not come back on the old evidence, and version numbers are not reused
    writer = GuidelineWriter(candidate, candidate_fraction=0.5)
    plan = writer.plan("diagnosis", [make_pattern("sp-new"), make_pattern("sp-other", tools=("get_logs",))])
    assert [c.pattern_id for c in plan.applied] == ["sp-other"] and plan.new.version not in ("1.0.0", "1.0.1")


def test_a_better_candidate_is_promoted_by_moving_the_stable_tag(
    store: SqliteStore, candidate: PromptsRepo
) -> None:
    head = git(candidate.path, "rev-parse", "main")
    record_runs(store, "diagnosis", _interleaved(_rates(40, 37), _rates(40, 12)))
    decision = run_cycle(store, candidate, min_traces=10).agents[0].rollout
    assert decision is not None and decision.action == "promote" and "significantly better" in decision.reason
    assert git(candidate.path, "rev-parse", "diagnosis/stable^{commit}") == head
    assert "promoted to stable" in git(candidate.path, "tag", "-l", "-n1", "diagnosis/stable")
    served = load_prompt("diagnosis", repo=candidate.path)
    if isinstance(served, PromptRollout):  # the same cycle may have written the next candidate
        served = served.stable
    assert (served.version, served.role) == ("1.0.1", "stable")
    states = {e.version: e.state for e in prompt_history(candidate, "diagnosis")}
    assert states["1.0.0"] == "superseded" and states["1.0.1"] in ("stable", "superseded")


def test_too_little_evidence_waits_and_writes_nothing(store: SqliteStore, candidate: PromptsRepo) -> None:
    # stable runs from before the candidate's first run are another period: they do not count
    record_runs(store, "diagnosis", [RunSpec(("get_pods",), False, "1.0.0")] * 20)
    record_runs(store, "diagnosis", _interleaved(_rates(8, 6), _rates(8, 5)))
    before = refs(candidate.path)
    result = run_cycle(store, candidate, min_traces=10).agents[0]
    assert result.rollout is not None and result.rollout.action == "wait"
    assert (result.rollout.candidate.runs, result.rollout.stable.runs) == (8, 8)
    assert "waiting for more runs" in result.rollout.reason and result.commit is None
    assert refs(candidate.path) == before


def test_at_the_budget_the_measured_rates_decide(store: SqliteStore, candidate: PromptsRepo) -> None:
    record_runs(store, "diagnosis", _interleaved(_rates(12, 7), _rates(12, 8)))
    settings = RolloutSettings(max_runs=12)
    decision = run_cycle(store, candidate, min_traces=10, rollout=settings).agents[0].rollout
    assert decision is not None and decision.action == "reject"
    assert "no significant difference after 12 runs" in decision.reason
    state = read_rollout(candidate, "diagnosis")
    assert state is not None and state.candidate is None and state.head.version == "1.0.0"


def test_a_person_edits_the_base_prompt_while_the_candidate_runs_and_the_rejection_keeps_it(
    store: SqliteStore, candidate: PromptsRepo
) -> None:
    path = candidate.path / "diagnosis.yaml"
    path.write_text(path.read_text().replace("Diagnose before you act.", "Diagnose before you act. Be brief."))
    git(candidate.path, "commit", "-qam", "a person's edit")
    record_runs(store, "diagnosis", _interleaved(_rates(30, 6), _rates(30, 28)))
    decision = run_cycle(store, candidate, min_traces=10).agents[0].rollout
    assert decision is not None and decision.action == "reject" and decision.version == "1.0.2"
    now = candidate.require("diagnosis", decision.commit)
    assert now.base_prompt == BASE_PROMPT.replace("act.", "act. Be brief.") and now.guidelines == ()
    assert git(candidate.path, "rev-parse", "diagnosis/stable^{commit}") == decision.commit
    assert "base_prompt: kept" in git(candidate.path, "log", "-1", "--format=%B", decision.commit)


def test_a_rollback_keeps_a_later_base_prompt_edit_and_is_stable_at_once(candidate: PromptsRepo) -> None:
    path = candidate.path / "diagnosis.yaml"
    path.write_text(path.read_text().replace("Diagnose before you act.", "Diagnose before you act. Be brief."))
    git(candidate.path, "commit", "-qam", "a person's edit")
    result = GuidelineWriter(candidate).rollback("diagnosis", "1.0.0", reason="the guideline confused it")
    assert result.changed and result.version == "1.0.2"
    now = candidate.require("diagnosis")
    assert "Be brief." in now.base_prompt and now.guidelines == () and now.candidate_fraction is None
    assert git(candidate.path, "rev-parse", "diagnosis/stable^{commit}") == result.commit
    message = git(candidate.path, "log", "-1", "--format=%B")
    assert "base_prompt: kept as it is on the branch" in message and "Otel-Meta-Blocked: sp-new" in message
    assert {e.version: e.state for e in prompt_history(candidate, "diagnosis")}["1.0.1"] == "rolled back"
