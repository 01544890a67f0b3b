"""``run_cycle`` end to end: spans in a real SQLite store, the real miner, a real git prompts repo."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from analyzers.errors import PromptsRepoError
from analyzers.guidelines import GuidelineWriter, PromptsRepo, parse_line
from analyzers.guidelines.rollout import RolloutSettings
from analyzers.orchestrator.cycle import run_cycle
from analyzers.store.sqlite import SqliteStore
from tests.analyzers.guidelines.prompts_repo import BASE_PROMPT, everything_in, git, make_pattern
from tests.analyzers.guidelines.traces import INJECTION, outcome_runs, planted_runs, record_runs


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    """The shared store fixture with synchronous=NORMAL: these tests write many runs and need no fsync."""
    with SqliteStore(tmp_path / "runs.db", synchronous="NORMAL") as s:
        yield s


def test_cycle_learns_guidelines_and_never_commits_span_text(store: SqliteStore, tmp_path: Path) -> None:
    record_runs(store, "diagnosis", planted_runs(40))
    record_runs(store, "triage", planted_runs(4))
    repo = PromptsRepo.init(tmp_path / "prompts")

    report = run_cycle(store, repo, min_traces=10)

    by_agent = {a.agent: a for a in report.agents}
    assert by_agent["triage"].skipped == "4 runs with a known outcome, fewer than 10"
    assert by_agent["triage"].commit is None
    learned = by_agent["diagnosis"]
    assert learned.runs_analysed == 40 and learned.patterns_found >= 2 and learned.skipped is None
    assert learned.version == "1.0.1" and learned.tag == "diagnosis/v1.0.1"
    assert git(repo.path, "rev-parse", "main") == learned.commit
    # the file was created for the agent (empty base prompt), then the guidelines were applied
    assert repo.require("diagnosis", "diagnosis/v1.0.0").base_prompt == ""
    lines = [parse_line(g.text) for g in repo.require("diagnosis").guidelines]
    assert all(line is not None for line in lines)
    recommended = {line.tools for line in lines if line and line.recommends}
    warned = {line.tools for line in lines if line and not line.recommends}
    assert ("get_pods", "get_logs", "check_services") in recommended
    assert ("restart_pod",) in warned
    # nothing from tool arguments, results, reasoning or submissions reached any git object
    dump = everything_in(repo.path)
    assert INJECTION[:30] not in dump and "evil.example" not in dump and "delete_namespace" not in dump
    as_json = json.loads(report.to_json_text())
    assert as_json["agents"][0]["agent"] == "diagnosis" and as_json["agents"][0]["applied"]

    again = run_cycle(store, repo, min_traces=10, agents=["diagnosis"])
    assert again.agents[0].commit is None and not again.changed


def test_cycle_without_auto_update_proposes_on_a_branch(store: SqliteStore, repo: PromptsRepo) -> None:
    record_runs(store, "diagnosis", planted_runs(30, seed=3))
    main_before = repo.head()
    result = run_cycle(store, repo, min_traces=10, auto_update=False).agents[0]
    assert result.branch == "proposals/diagnosis/v1.0.1" and result.tag is None
    assert repo.head() == main_before
    assert repo.require("diagnosis", result.branch).base_prompt == BASE_PROMPT


def test_cycle_refuses_a_dirty_repo(store: SqliteStore, tmp_path: Path) -> None:
    record_runs(store, "diagnosis", planted_runs(20))
    repo = PromptsRepo.init(tmp_path / "prompts")
    (repo.path / "scratch.yaml").write_text("x: 1\n")
    with pytest.raises(PromptsRepoError, match="uncommitted changes"):
        run_cycle(store, repo, min_traces=10)
    assert git(repo.path, "rev-list", "--count", "--all") == "1"


def test_cycle_auto_rollback_of_a_significantly_worse_version(store: SqliteStore, repo: PromptsRepo) -> None:
    writer = GuidelineWriter(repo)
    writer.write("diagnosis", [make_pattern("pat-bad", "tool_effectiveness", ("get_metrics",))])
    record_runs(store, "diagnosis", outcome_runs(17, 3, "1.0.0") + outcome_runs(5, 15, "1.0.1"))

    # the former rule, for rollout off: a new version goes to every run and is rolled back when worse
    report = run_cycle(store, repo, min_traces=10, auto_rollback=True, rollout=RolloutSettings(candidate_fraction=0))
    result = report.agents[0]
    assert result.rollback is not None
    assert (result.rollback.from_version, result.rollback.to_version, result.rollback.new_version) == (
        "1.0.1",
        "1.0.0",
        "1.0.2",
    )
    assert result.rollback.p_value < 0.05 and result.commit == git(repo.path, "rev-parse", "main")
    message = git(repo.path, "log", "-1", "--format=%B")
    assert message.startswith("diagnosis v1.0.2: roll back to v1.0.0 (+0 guidelines, -1 retired)")
    assert "Why: automatic rollback: v1.0.1 succeeded in 5 of 20 runs (25%) against 17 of 20 (85%)" in message
    assert "Fisher's exact test, one-sided, p = " in message and "Otel-Meta-Blocked: pat-bad" in message
    assert git(repo.path, "cat-file", "-t", "diagnosis/v1.0.2") == "tag"
    assert repo.require("diagnosis").guidelines == ()
    # the rolled-back pattern is not applied again by later cycles
    assert not writer.write(
        "diagnosis", [make_pattern("pat-bad", "tool_effectiveness", ("get_metrics",))]
    ).changed
    # the restored version has too few runs of its own: no second rollback
    assert run_cycle(store, repo, min_traces=10, auto_rollback=True).agents[0].rollback is None


def test_cycle_does_not_roll_back_a_version_with_too_few_runs(store: SqliteStore, repo: PromptsRepo) -> None:
    writer = GuidelineWriter(repo)
    writer.write("diagnosis", [make_pattern("pat-x", "tool_effectiveness", ("get_metrics",))])
    record_runs(store, "diagnosis", outcome_runs(18, 2, "1.0.0") + outcome_runs(0, 6, "1.0.1"))
    result = run_cycle(store, repo, min_traces=10, auto_rollback=True).agents[0]
    assert result.rollback is None
    assert "roll back" not in git(repo.path, "log", "--format=%s", "main")


def test_cycle_skips_an_agent_with_a_broken_file_and_goes_on(store: SqliteStore, tmp_path: Path) -> None:
    record_runs(store, "broken", planted_runs(12))
    record_runs(store, "diagnosis", planted_runs(20))
    repo = PromptsRepo.init(tmp_path / "prompts")
    (repo.path / "broken.yaml").write_text("agent: broken\nversion: one\n")
    git(repo.path, "add", "broken.yaml")
    git(repo.path, "commit", "-qm", "a hand-written file with a bad version")
    report = run_cycle(store, repo, min_traces=10)
    by_agent = {a.agent: a for a in report.agents}
    assert "is not MAJOR.MINOR.PATCH" in str(by_agent["broken"].skipped)
    assert by_agent["diagnosis"].commit is not None and by_agent["diagnosis"].version == "1.0.1"
