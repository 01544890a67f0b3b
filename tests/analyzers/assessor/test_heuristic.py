from __future__ import annotations

from analyzers.assessor import ReasoningContext, RunEvidence, assess
from analyzers.assessor.heuristic import median_tool_steps, score_context, score_run
from analyzers.assessor.run_features import WEIGHTS
from analyzers.model import Run, Step


def _run(trace_id: str, oks: list[bool], thinking: int = 0, request_id: str | None = None) -> Run:
    steps = [Step("thinking", "think", True, 1.0) for _ in range(thinking)]
    steps += [Step("tool", f"tool_{i % 3}", ok, 5.0, error_type=None if ok else "ValueError")
              for i, ok in enumerate(oks)]
    return Run(trace_id, "diagnosis", None, 0, 10.0, tuple(steps), request_id=request_id)


def test_score_run_penalises_failures_effort_and_blind_retries() -> None:
    clean = score_run(RunEvidence(_run("a" * 32, [True] * 5, thinking=1), baseline_tool_steps=5))
    failing = score_run(RunEvidence(_run("b" * 32, [True, False, True, False, True], thinking=1), baseline_tool_steps=5))
    stuck = score_run(RunEvidence(_run("c" * 32, [True, False, False, False, True], thinking=1), baseline_tool_steps=5))
    long = score_run(RunEvidence(_run("d" * 32, [True] * 25, thinking=1), baseline_tool_steps=5))
    assert clean.quality > failing.quality > stuck.quality
    assert clean.quality > long.quality
    assert any("tool_1" in a for a in failing.actions)
    assert any("5.0x" in a for a in long.actions)


def test_score_run_is_one_minus_the_weighted_penalties() -> None:
    # 10 ok calls at the reference baseline, no thinking: effort 1/2 * 0.25, unreasoned 1 * 0.10.
    verdict = score_run(RunEvidence(_run("a" * 32, [True] * 10)))
    assert verdict.quality == 1.0 - (0.5 * WEIGHTS["effort"] + WEIGHTS["unreasoned_actions"])
    assert any("no thinking steps" in a for a in verdict.actions)


def test_median_tool_steps() -> None:
    assert median_tool_steps([_run("a", [True] * 2), _run("b", [True] * 4), _run("c", [True] * 9)]) == 4.0
    assert median_tool_steps([]) is None


def test_score_context_rewards_depth_and_penalises_misaligned_confidence() -> None:
    rich = ReasoningContext.from_mapping({
        "thoughts": {"thoughts": [{"reasoning": "r" * 400, "approaches": ["a", "b"], "uncertainties": ["u"],
                                   "confidence": 0.9}]},
        "plan": {"plan": {"goal": "g", "steps": ["s1", "s2", "s3"], "confidence": 0.9}},
    })
    thin = ReasoningContext.from_mapping({"thoughts": "maybe the db", "confidence_score": 0.95})
    assert score_context(rich).quality == 1.0
    verdict = score_context(thin)
    assert verdict.quality < 0.4
    assert any("Recalibrate confidence" in a for a in verdict.actions)
    assert any("missing plan" in a for a in verdict.actions)


def test_context_reader_accepts_camel_and_snake_case_and_plain_shapes() -> None:
    camel = ReasoningContext.from_mapping({"confidenceScore": {"overallConfidence": 0.7, "decision": "go"},
                                           "critique": {"critique": {"overallScore": "80%", "issues": ["x", "y"]}}})
    snake = ReasoningContext.from_mapping({"confidence_score": {"overall_confidence": 0.7},
                                           "plan": [{"action": "one"}, "two"]})
    assert camel.overall_confidence == 0.7 and camel.decision == "go"
    assert camel.critique_score == 0.8 and camel.critique_issue_count == 2
    assert snake.overall_confidence == 0.7 and snake.plan_steps == ("one", "two")


def test_assess_a_run_defaults_request_id_to_the_runs() -> None:
    a = assess(_run("e" * 32, [False, False, False], request_id="req-7"))
    assert a.request_id == "req-7" and a.trace_id == "e" * 32 and a.mode == "heuristic"
    b = assess(_run("f" * 32, [True]))
    assert b.request_id == "f" * 32
