"""A run's outcome, from whichever source reported it.

Precedence, highest first: ``api`` (``POST /api/runs/{trace_id}/outcome``: user feedback, CI results),
``span`` (``otel_meta.outcome`` on the run's spans, or an agent span that ended in error), then
``evaluation`` (an evaluator's ``gen_ai.evaluation.result``, as a span event or an OTLP log record,
mapped to success or failure by an ``OutcomeRule``). The judge's own ``reasoning_quality`` verdicts
are never read as outcomes.

The rule is ``OTEL_META_OUTCOME_RULE`` when set (``OutcomeRule.parse`` reads it, e.g.
``names=task_success,threshold=0.5``), else ``DEFAULT_OUTCOME_RULE``; an ``assemble_run(rule=...)``
argument wins over both.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from analyzers import config
from analyzers.model import EvaluationRecord, OutcomeSource, SpanRecord
from otel_meta import semconv as sc

logger = logging.getLogger(__name__)


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


    @classmethod
    def parse(cls, text: str) -> OutcomeRule:
        """The rule written as comma-separated ``key=value`` items: ``names=A|B``, ``threshold=X``,
        ``success=L1|L2``, ``failure=L3|L4`` (labels given replace the default ones).

        Raises ``ValueError`` naming the item that is wrong and what is expected.
        """
        fields: dict[str, object] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            key, sep, value = (x.strip() for x in item.partition("="))
            values = tuple(v.strip() for v in value.split("|") if v.strip())
            if not sep or key not in _RULE_KEYS:
                raise ValueError(f"outcome rule item {item!r}: expected one of "
                                 f"{', '.join(k + '=' for k in _RULE_KEYS)}")
            if key == "threshold":
                try:
                    fields["threshold"] = float(value)
                except ValueError:
                    raise ValueError(f"outcome rule threshold {value!r} is not a number") from None
            else:
                fields[_RULE_KEYS[key]] = values
        return cls(**fields)  # type: ignore[arg-type]


_RULE_KEYS = {"names": "names", "threshold": "threshold", "success": "success_labels",
              "failure": "failure_labels"}
DEFAULT_OUTCOME_RULE = OutcomeRule()


def configured_rule() -> OutcomeRule:
    """``OTEL_META_OUTCOME_RULE`` parsed (see ``OutcomeRule.parse``), else ``DEFAULT_OUTCOME_RULE``.

    Raises ``ValueError`` when the variable is set to something that is not a rule (``otel-meta
    serve`` checks it at start; assembly then logs it once and uses the default rule).
    """
    return _parsed(config.outcome_rule())


def assembly_rule() -> OutcomeRule:
    """The configured rule for assembly, which never stops on a bad setting: ``DEFAULT_OUTCOME_RULE``
    (with one warning) when ``OTEL_META_OUTCOME_RULE`` cannot be read."""
    try:
        return configured_rule()
    except ValueError as exc:
        _warn_once(str(exc))
        return DEFAULT_OUTCOME_RULE


@lru_cache(maxsize=8)
def _warn_once(message: str) -> None:
    logger.warning("%s; using the default outcome rule", message)


@lru_cache(maxsize=8)
def _parsed(text: str | None) -> OutcomeRule:
    if text is None:
        return DEFAULT_OUTCOME_RULE
    try:
        return OutcomeRule.parse(text)
    except ValueError as exc:
        raise ValueError(f"OTEL_META_OUTCOME_RULE: {exc}") from None


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
