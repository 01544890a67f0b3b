"""A run's outcome, from whichever source reported it.

Precedence, highest first: ``api`` (``POST /api/runs/{trace_id}/outcome``: user feedback, CI results),
``span`` (``otel_meta.outcome`` on the run's spans, or an agent span that ended in error), then
``evaluation`` (an evaluator's ``gen_ai.evaluation.result``, as a span event or an OTLP log record,
mapped to success or failure by an ``OutcomeRule``). The judge's own ``reasoning_quality`` verdicts
are never read as outcomes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from analyzers.model import EvaluationRecord, OutcomeSource, SpanRecord
from otel_meta import semconv as sc


@dataclass(frozen=True)
class OutcomeRule:
    """Maps evaluation records to success/failure.

    ``names``: the evaluation names read (empty: any name but the judge's ``reasoning_quality``).
    A record's label decides first (``success_labels`` / ``failure_labels``, compared case-blind);
    otherwise, when ``threshold`` is set, a score at or above it is a success. The latest record
    that maps wins.
    """

    names: tuple[str, ...] = ()
    threshold: float | None = None
    success_labels: tuple[str, ...] = ("success", "pass", "passed", "correct", "resolved")
    failure_labels: tuple[str, ...] = ("failure", "fail", "failed", "incorrect", "unresolved")

    def applies_to(self, name: str) -> bool:
        if name == sc.EVALUATION_REASONING_QUALITY:
            return False
        return not self.names or name in self.names

    def verdict(self, record: EvaluationRecord) -> bool | None:
        """``True``/``False`` when the rule maps ``record``, else ``None``."""
        if not self.applies_to(record.name):
            return None
        label = (record.score_label or "").strip().lower()
        if label in (lab.lower() for lab in self.success_labels):
            return True
        if label in (lab.lower() for lab in self.failure_labels):
            return False
        if self.threshold is not None and record.score_value is not None:
            return record.score_value >= self.threshold
        return None


DEFAULT_OUTCOME_RULE = OutcomeRule()


def _as_float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def span_evaluations(spans: Sequence[SpanRecord]) -> list[EvaluationRecord]:
    """The ``gen_ai.evaluation.result`` span events of ``spans`` as records."""
    out = []
    for span in spans:
        for event in span.events:
            if event.name != sc.EVENT_EVALUATION_RESULT:
                continue
            attrs = event.attributes
            label = attrs.get(sc.GEN_AI_EVALUATION_SCORE_LABEL)
            explanation = attrs.get(sc.GEN_AI_EVALUATION_EXPLANATION)
            out.append(EvaluationRecord(
                trace_id=span.trace_id,
                span_id=span.span_id,
                name=str(attrs.get(sc.GEN_AI_EVALUATION_NAME, "")),
                score_value=_as_float(attrs.get(sc.GEN_AI_EVALUATION_SCORE_VALUE)),
                score_label=None if label is None else str(label),
                explanation=None if explanation is None else str(explanation),
                time_unix_nano=event.time_unix_nano,
                attributes=attrs,
            ))
    return out


def evaluation_outcome(records: Iterable[EvaluationRecord], rule: OutcomeRule) -> bool | None:
    """The verdict of the latest record that ``rule`` maps, or ``None``."""
    latest: tuple[int, bool] | None = None
    for record in records:
        verdict = rule.verdict(record)
        if verdict is not None and (latest is None or record.time_unix_nano >= latest[0]):
            latest = (record.time_unix_nano, verdict)
    return None if latest is None else latest[1]


def resolve_outcome(
    *, api: bool | None, span: bool | None, evaluation: bool | None,
) -> tuple[bool | None, OutcomeSource | None]:
    """Apply the precedence api > span > evaluation."""
    if api is not None:
        return api, "api"
    if span is not None:
        return span, "span"
    if evaluation is not None:
        return evaluation, "evaluation"
    return None, None
