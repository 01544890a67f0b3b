"""Whether a pattern may become a guideline, and why not.

A pattern's ``confidence`` answers "is the effect real". A guideline also needs the effect to be worth
one and the advice to be sound; a pattern that fails is still listed, with ``withheld`` saying why:

- *task-confounded*: when runs are compared within tasks, a pattern whose pooled test reaches the
  level while its within-task test does not (or cannot: no task has runs with and without it) says
  something about the tasks, not about the steps;
- *below the floor*: the effect's 90% interval must clear ``min_effect`` on the pattern's side (its
  lower end above ``+min_effect`` for a pattern that raises the success rate, its upper end below
  ``-min_effect`` for one that lowers it), and the claim a guideline makes, "the effect exceeds the
  floor", must be significant family-wise too: one minus the weighted-Holm-adjusted p-value of "the
  effect is at most the floor" (``Candidate.floor_p``, the same family and weights as ``confidence``)
  must reach ``guideline_level`` (0.95): a committed prompt line is a stronger claim than a listed
  pattern, so its family-wise error is 5%, not the 30% of a pattern listed at confidence 0.7;
- *needed by successful runs*: a tool used by at least ``NEEDED_SHARE`` of the agent's successful runs
  never becomes a bare "Avoid X" (``outcome_drop``); its preconditions and recoveries say how to use it;
- *no outcome evidence*: call-level findings about a tool X (its calls fail more than the others',
  ``call_failures``; its calls succeed more after P, ``precondition``) give advice only when runs with a
  failed call of X also succeed less (its ``failed_call`` pattern reaches the level, not withheld): a
  test runner whose calls fail while the agent works is not a tool to warn against.
"""

from __future__ import annotations

from analyzers.mining._testing import Candidate

#: A tool used in at least this share of the agent's successful runs is needed by them.
NEEDED_SHARE = 0.1


def _points(x: float) -> str:
    return f"{100.0 * x:+.0f}"


def withheld(
    c: Candidate,
    confidence: float,
    pooled_confidence: float,
    *,
    grouped: bool,
    level: float,
    min_effect: float,
    floor_confidence: float = 1.0,
    guideline_level: float = 0.95,
) -> tuple[bool, str]:
    """``(task_confounded, reason)`` for candidate ``c`` (an empty reason: a guideline may be written).
    ``floor_confidence`` is one minus the family-wise adjusted ``Candidate.floor_p``; it must reach
    ``guideline_level``."""
    if grouped and c.pooled_p is not None and pooled_confidence >= level and confidence < level:
        where = f"{c.tasks} tasks" if c.scope == "within_task" else "no task has runs with and without it"
        return True, (
            f"task-confounded: pooled confidence {pooled_confidence:.2f}, within tasks {confidence:.2f} ({where})"
        )
    if c.effect_low is not None and c.effect_high is not None:
        lo, hi = c.effect_low, c.effect_high
        if (c.direction == "up" and lo < min_effect) or (c.direction == "down" and hi > -min_effect):
            return False, (
                f"effect {_points(c.effect or 0.0)} points [{_points(lo)}, {_points(hi)}] does not clear the "
                f"floor of {100 * min_effect:.0f} points"
            )
    if floor_confidence < guideline_level:
        if c.effect is None:
            return False, (
                f"not family-wise significant at the guideline level (confidence {floor_confidence:.2f} < "
                f"{guideline_level:.2f})"
            )
        return False, (
            f"an effect beyond the floor of {100 * min_effect:.0f} points is not family-wise significant "
            f"(floor confidence {floor_confidence:.2f} < {guideline_level:.2f})"
        )
    share = c.figures.get("success_share", 0.0)
    if c.qualifier == "outcome_drop" and share >= NEEDED_SHARE:
        return False, (
            f"successful runs use it too ({100 * share:.0f}% of them): no bare warning; "
            "see its preconditions and recoveries"
        )
    return False, ""


def call_level_withheld(failed_call_confidence: float, level: float) -> str:
    """The reason a call-level pattern (``call_failures``, ``precondition``) gets no guideline (empty:
    it may get one), given the confidence of its tool's ``failed_call`` pattern."""
    if failed_call_confidence >= level:
        return ""
    return (
        f"call-level only: runs with a failed call of the tool do not surely succeed less "
        f"(confidence {failed_call_confidence:.2f}), no outcome evidence for advice"
    )
