"""Within-task comparisons, task-confounded patterns, conditions and withheld advice."""

from __future__ import annotations

import pytest

from analyzers.guidelines.templates import guideline_text, parse_line
from analyzers.mining import PatternMiner, group_findings, mine_patterns
from analyzers.mining._encoding import encode_runs
from analyzers.mining._tasks import task_strata
from analyzers.mining.synthetic import (
    CONFOUNDED_TOOLS,
    HELPFUL_TOOL,
    PRECONDITION,
    RECOVERY,
    task_effect,
    task_runs,
)
from analyzers.model import Run, Step


@pytest.fixture(scope="module")
def miner() -> PatternMiner:
    return PatternMiner(random_state=0).fit(task_runs(500, 4))


def test_repeated_task_keys_group_the_runs() -> None:
    def runs(keys: list[str | None]) -> list[Run]:
        return [Run(f"r{i}", "a", i % 2 == 0, 0, 1.0, (Step("tool", "t", True, 1.0),), problem_id=k)
                for i, k in enumerate(keys)]

    assert task_strata(encode_runs(runs([None] * 8)))[1] is False
    assert task_strata(encode_runs(runs([f"k{i}" for i in range(8)])))[1] is False  # keys never repeat
    assert task_strata(encode_runs(runs(["app"] * 8)))[1] is False  # one key for all: nothing within
    assert task_strata(encode_runs(runs(["app"] * 7 + ["other"])))[1] is False  # one key repeats
    strata, grouped = task_strata(encode_runs(runs(["a", "a", "b", "b", "c", None, "c", "d"])))
    assert grouped and strata[0] == strata[1] != strata[2] and len(set(strata.tolist())) == 5


def test_confounded_tools_are_labelled_and_never_advice(miner: PatternMiner) -> None:
    assert miner.grouped_
    about = [p for p in miner.patterns_ if set(p.tools) & set(CONFOUNDED_TOOLS)]
    assert all(p.confidence < 0.7 for p in about)
    confounded = [p for p in miner.patterns_ if p.task_confounded]
    assert confounded, "booking tasks always call book: its pooled drop cannot be told apart from the task"
    for p in confounded:
        assert p.withheld.startswith("task-confounded") and guideline_text(p) is None
    book = next(p for p in confounded if p.tools == (PRECONDITION[1],) and p.kind == "outcome_drop")
    assert "no task has runs with and without it" in book.withheld


def test_within_task_effects_and_conditions_are_found(miner: PatternMiner) -> None:
    confident = [p for p in miner.patterns_ if p.confidence >= 0.7 and not p.task_confounded]
    assert confident and all(task_effect(p) is not None for p in confident)
    kinds = {(p.kind, p.tools) for p in confident}
    assert ("precondition", PRECONDITION) in kinds and ("recovery", RECOVERY) in kinds
    assert ("outcome_lift", (HELPFUL_TOOL,)) in kinds
    pre = next(p for p in confident if p.kind == "precondition")
    assert pre.scope == "within_task" and pre.tasks >= 10 and pre.effect_low is not None and pre.effect_low > 0
    line = guideline_text(pre)
    assert line is not None and line.startswith(f"Call {PRECONDITION[0]} before {PRECONDITION[1]} (")
    assert f"within {pre.tasks} tasks" in line
    parsed = parse_line(line)
    assert parsed is not None and parsed.tools == PRECONDITION and parsed.recommends
    rec = next(p for p in confident if p.kind == "recovery")
    assert parse_line(guideline_text(rec) or "") is not None
    assert (guideline_text(rec) or "").startswith(f"After {RECOVERY[0]} fails, call {RECOVERY[1]} (")


def test_within_task_figures_are_the_runs_of_the_tasks_with_both_groups(miner: PatternMiner) -> None:
    runs = list(task_runs(500, 4))
    checked = 0
    for p in miner.patterns_:
        if p.scope != "within_task" or p.unit != "runs" or p.kind == "cluster":  # calls: test_miner
            continue
        rule = miner.rules_[p.id]
        by_task: dict[str | None, list[tuple[bool, bool]]] = {}
        for r in runs:
            if rule.compared(r):
                by_task.setdefault(r.problem_id, []).append((rule.shows(r), bool(r.outcome)))
        both = [v for v in by_task.values() if any(s for s, _ in v) and not all(s for s, _ in v)]
        shown = [ok for v in both for s, ok in v if s]
        rest = [ok for v in both for s, ok in v if not s]
        assert p.frequency == len(shown), (p.kind, p.tools)
        assert p.success_rate == pytest.approx(sum(shown) / len(shown))
        assert p.comparison_rate == pytest.approx(sum(rest) / len(rest))
        checked += 1
    assert checked >= 5


@pytest.mark.parametrize("seed", [31, 32, 33, 34, 35])
def test_no_confident_pattern_when_only_the_task_decides(seed: int) -> None:
    patterns = mine_patterns(task_runs(400, seed, effects=False), "task-agent", random_state=seed)
    assert [p for p in patterns if p.confidence >= 0.7 and not p.task_confounded] == []


def test_a_tool_successful_runs_need_is_never_a_bare_warning() -> None:
    # Pooled runs (no task keys): runs that call "confirm" fail more, but a third of the successes use it.
    runs = []
    for i in range(400):
        uses = i % 3 == 0
        ok = (i % 5 != 0) if not uses else (i % 2 == 0)
        steps = [Step("tool", "lookup", True, 5.0)] + ([Step("tool", "confirm", True, 5.0)] if uses else [])
        runs.append(Run(f"r{i:03d}", "a", ok, 0, 10.0, tuple(steps)))
    patterns = mine_patterns(runs, "a")
    drop = next(p for p in patterns if p.kind == "outcome_drop" and p.tools == ("confirm",))
    assert drop.confidence >= 0.7 and drop.scope == "pooled"
    assert drop.withheld.startswith("successful runs use it too") and guideline_text(drop) is None


def test_findings_group_what_is_one_finding(miner: PatternMiner) -> None:
    findings = group_findings(miner.patterns_)
    keys = [f.key for f in findings]
    assert len(keys) == len(set(keys))
    assert sum(len(f.patterns) for f in findings) == len(miner.patterns_)
    pair = next(f for f in findings if f.key == ("task-agent", *sorted(PRECONDITION)))
    assert {p.kind for p in pair.patterns} >= {"precondition"}
    ranks = [(f.lead.task_confounded, -round(f.lead.confidence, 2)) for f in findings]
    assert ranks == sorted(ranks)


def test_fallback_task_key_groups_when_problem_ids_never_repeat() -> None:
    import dataclasses

    from analyzers.guidelines.templates import applied_note

    def rekeyed(source: str | None) -> list[Run]:
        return [dataclasses.replace(r, problem_id=f"incident-{i}", task_key=None if source is None else r.problem_id,
                                    task_key_source=source) for i, r in enumerate(task_runs(500, 4))]

    for source, words in (("problem_context", "the problem context"), ("first_message", "the first user message")):
        m = PatternMiner(random_state=0).fit(rekeyed(source))
        assert m.grouped_ and m.task_grouping_ == source
        pre = next(p for p in m.patterns_ if p.kind == "precondition" and p.confidence >= 0.7)
        assert pre.scope == "within_task" and pre.task_grouping == source
        assert f"told apart by {words}" in pre.description
        assert applied_note(pre) == f"applied; effect within {pre.tasks} tasks grouped by {source}"
    pooled = PatternMiner(random_state=0).fit(rekeyed(None))
    assert not pooled.grouped_ and pooled.task_grouping_ == ""
    assert all(p.scope in ("pooled", "") and p.task_grouping == "" for p in pooled.patterns_)
    some = next(p for p in pooled.patterns_ if p.scope == "pooled")
    assert "Pooled across tasks" in some.description and "pooled across tasks" in applied_note(some)
    assert task_strata(encode_runs(rekeyed(None)))[1] is False


def test_thinking_at_all_is_not_tested_twice_when_it_is_thinking_first() -> None:
    same = PatternMiner(random_state=0).fit(task_runs(500, 0))  # every run that thinks thinks first
    assert not {p.kind for p in same.patterns_} & {"any_thinking", "no_thinking"}
    assert {p.kind for p in same.patterns_} & {"think_first", "act_first"}
    from analyzers.mining.synthetic import planted_runs

    apart = PatternMiner(random_state=0).fit(planted_runs(300, 2))  # some runs think only later
    assert {p.kind for p in apart.patterns_} & {"any_thinking", "no_thinking"}


def test_a_guideline_needs_the_floor_family_wise() -> None:
    # A no-effect data set (outcome by task only) where act_first reaches confidence 0.86 by chance.
    m = PatternMiner(random_state=19).fit(task_runs(500, 10_019, effects=False))
    noise = next(p for p in m.patterns_ if p.kind == "act_first")
    assert noise.confidence >= 0.7 and not noise.task_confounded
    assert noise.effect_low is not None and noise.effect_high is not None
    assert noise.effect_high < -0.03  # its interval clears the floor: only the family-wise floor test stops it
    assert noise.withheld.startswith("an effect beyond the floor of 3 points is not family-wise significant")
    assert guideline_text(noise) is None
    # a strong planted effect passes it
    pre = next(p for p in PatternMiner(random_state=0).fit(task_runs(500, 4)).patterns_ if p.kind == "precondition")
    assert pre.withheld == "" and guideline_text(pre) is not None
