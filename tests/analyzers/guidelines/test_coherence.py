"""The writer's guideline set is coherent: one line per (topic, polarity), contradictions resolved."""

from __future__ import annotations

from analyzers.guidelines import GuidelineWriter, PromptsRepo, parse_line
from tests.analyzers.guidelines.prompts_repo import git, make_pattern


def _lines(repo: PromptsRepo) -> list[str]:
    return [g.text for g in repo.require("diagnosis").guidelines]


def test_same_advice_from_several_pattern_types_gives_one_line(repo: PromptsRepo) -> None:
    patterns = [
        make_pattern("fp-1", "failure_pattern", ("scale_deployment",), 0.99, kind="failed_call", success_rate=0.3),
        make_pattern("pp-1", "performance_pattern", ("scale_deployment",), 0.97, kind="hot_spot", unit="calls",
                     measures={"p95_ms": 900.0, "rest_p95_ms": 120.0}, success_rate=0.1, baseline=0.95),
        make_pattern("te-1", "tool_effectiveness", ("scale_deployment",), 0.9, kind="outcome_drop",
                     success_rate=0.2, baseline=0.6),
    ]
    result = GuidelineWriter(repo).write("diagnosis", patterns)
    assert [c.pattern_id for c in result.applied] == ["fp-1"]
    lines = _lines(repo)
    assert len(lines) == 1 and lines[0].startswith("Avoid scale_deployment without checking its inputs (")
    message = git(repo.path, "log", "-1", "--format=%B", "main")
    assert "Left out:" in message
    assert "pp-1: confidence 0.97" in message and "(same advice as fp-1)" in message
    assert "(hot_spot, in calls)" in message and "(failed_call, in runs)" in message


def test_contradiction_prefers_outcome_level_over_call_level_evidence(repo: PromptsRepo) -> None:
    patterns = [
        make_pattern("te-calls", "tool_effectiveness", ("rollback_deployment",), 1.0, kind="call_failures",
                     unit="calls", success_rate=0.6, baseline=0.95, frequency=40),
        make_pattern("te-runs", "tool_effectiveness", ("rollback_deployment",), 0.8, kind="outcome_lift",
                     success_rate=0.7, baseline=0.3),
    ]
    GuidelineWriter(repo).write("diagnosis", patterns)
    (line,) = _lines(repo)
    parsed = parse_line(line)
    assert parsed is not None and parsed.verb == "Use" and parsed.tools == ("rollback_deployment",)
    message = git(repo.path, "log", "-1", "--format=%B", "main")
    assert "(contradicted by te-runs: outcome-level evidence beats call-level)" in message


def test_a_new_stronger_pattern_retires_a_kept_line_it_contradicts(repo: PromptsRepo) -> None:
    writer = GuidelineWriter(repo)
    seq = make_pattern("sp-1", "success_pattern", ("get_logs", "restart_pod"), 0.8, kind="sequence")
    writer.write("diagnosis", [seq])
    assert _lines(repo)[0].startswith("Prefer get_logs -> restart_pod (")

    transition = make_pattern("fp-2", "failure_pattern", ("get_logs", "restart_pod"), 0.97, kind="transition",
                              success_rate=0.05, baseline=0.7)
    think = make_pattern("tp-1", "thinking_pattern", (), 0.9, kind="think_first")
    act = make_pattern("tp-2", "thinking_pattern", (), 0.75, kind="act_first", success_rate=0.3)
    result = writer.write("diagnosis", [seq, transition, think, act])

    assert [c.pattern_id for c in result.retired] == ["sp-1"]
    assert result.retired[0].reason == "contradicted by fp-2: higher confidence"
    assert [c.pattern_id for c in result.applied] == ["fp-2", "tp-1"]
    assert _lines(repo) == [
        ("Avoid get_logs -> restart_pod (runs where the second call failed right after the first succeed 5% of "
         "34 runs vs 70% of the other runs, confidence 0.97)"),
        ("Think before the first tool call (runs that reason before their first tool call succeed 85% of 34 "
         "runs vs 60% of the other runs, confidence 0.90)"),
    ]
    message = git(repo.path, "log", "-1", "--format=%B", "main")
    assert "(contradicted by tp-1: higher confidence)" in message  # act_first was left out

    # The same patterns again: the set is stable, no commit.
    assert not writer.write("diagnosis", [seq, transition, think, act]).changed


def test_kept_line_stays_when_a_new_pattern_says_the_same(repo: PromptsRepo) -> None:
    writer = GuidelineWriter(repo)
    writer.write("diagnosis", [make_pattern("te-1", "tool_effectiveness", ("get_metrics",), 0.8,
                                            kind="outcome_drop", success_rate=0.3)])
    before = _lines(repo)
    result = writer.write("diagnosis", [
        make_pattern("te-1", "tool_effectiveness", ("get_metrics",), 0.8, kind="outcome_drop", success_rate=0.3),
        make_pattern("lp-1", "failure_pattern", ("get_metrics",), 0.99, kind="last_step", success_rate=0.1),
    ])
    assert not result.changed and _lines(repo) == before
