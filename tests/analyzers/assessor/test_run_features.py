from __future__ import annotations

import math

import pytest

from analyzers.assessor.run_features import FEATURES, WEIGHTS, quality, run_features
from analyzers.model import Run, Step


def _tool(name: str, ok: bool = True, digest: str | None = None) -> Step:
    return Step("tool", name, ok, 1.0, error_type=None if ok else "ToolError", args_digest=digest)


def _think(chars: int | None = 200) -> Step:
    return Step("thinking", "think", True, 1.0, chars=chars)


def _run(*steps: Step) -> Run:
    return Run("a" * 32, "agent", None, 0, 1.0, tuple(steps))


def test_weights_cover_every_feature_and_sum_to_one() -> None:
    assert set(WEIGHTS) == set(FEATURES)
    assert math.isclose(sum(WEIGHTS.values()), 1.0)


def test_a_clean_reasoned_run_pays_only_for_its_effort() -> None:
    f = run_features(_run(_think(), _tool("a"), _think(), _tool("b")), baseline_tool_steps=2)
    assert f.effort == 0.5
    assert [f.failure_rate, f.blind_retry, f.repetition, f.ended_on_failure, f.unreasoned_actions,
            f.shallow_reasoning] == [0.0] * 6
    assert quality(f) == 1.0 - 0.5 * WEIGHTS["effort"]


def test_blind_retry_is_the_same_call_failing_again_and_a_change_of_approach_is_not() -> None:
    blind = run_features(_run(_tool("a", False), _tool("a", False), _tool("a", True)))
    changed = run_features(_run(_tool("a", False), _tool("b", False), _tool("c", True)))
    other_args = run_features(_run(_tool("a", False, "x"), _tool("a", False, "y"), _tool("a", True, "z")))
    assert (blind.blind_retries, blind.blind_retry) == (1, 0.5)  # 2 failed calls followed by a call
    assert changed.blind_retries == 0 and other_args.blind_retries == 0
    assert quality(blind) < quality(changed)


def test_repetition_needs_argument_digests() -> None:
    looped = run_features(_run(_tool("a", digest="x"), _tool("b", digest="y"), _tool("a", digest="x"),
                               _tool("a", digest="x")))
    assert looped.repeated_calls == 2 and looped.repetition == 0.5
    assert run_features(_run(_tool("a"), _tool("a"), _tool("a"))).repetition == 0.0


def test_ending_on_a_failure_thinking_before_acting_and_shallow_thoughts() -> None:
    f = run_features(_run(_think(30), _tool("a"), _tool("b"), _think(500), _tool("c", False)))
    assert f.ended_on_failure == 1.0
    assert f.unreasoned_calls == 1 and f.unreasoned_actions == pytest.approx(1 / 3)
    assert f.shallow_thoughts == 1 and f.shallow_reasoning == 0.5
    assert run_features(_run(_think(None), _tool("a"))).shallow_reasoning == 0.0  # length unknown


def test_a_run_without_tool_calls_has_no_penalty_but_effort_zero() -> None:
    f = run_features(_run(_think()))
    assert f.vector() == (0.0,) * len(FEATURES)
    assert quality(f) == 1.0
