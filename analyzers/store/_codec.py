"""How ``SqliteStore`` lays a span and a run out in a row (JSON bodies), and back.

A span keeps everything OTLP carried: attributes, events, links, status, scope and resource (the
resource is stored once in its own table and referenced). Byte-string attribute values, which JSON has
no type for, are written as ``{"$bytes": "<base64>"}``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from analyzers.model import Assessment, EvaluationRecord, Run, SpanEvent, SpanLink, SpanRecord, Step

_BYTES_TAG = "$bytes"
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=lambda o: _default(o))


def _default(obj: Any) -> Any:
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return {_BYTES_TAG: base64.b64encode(bytes(obj)).decode("ascii")}
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    raise TypeError(f"cannot store attribute value of type {type(obj).__name__}")


def _bytes_hook(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and _BYTES_TAG in obj:
        return base64.b64decode(obj[_BYTES_TAG])
    return obj


def dumps(obj: Any) -> str:
    return _ENCODER.encode(obj)


def loads(text: str) -> Any:
    if _BYTES_TAG in text:
        return json.loads(text, object_hook=_bytes_hook)
    return json.loads(text)


def resource_key(attributes: Mapping[str, Any]) -> tuple[str, str]:
    """The resource's JSON and a digest that identifies it."""
    text = dumps(dict(sorted(attributes.items())))
    return text, hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def span_body(span: SpanRecord) -> str:
    """Attributes, events and links of a span as one JSON text."""
    body: dict[str, Any] = {"a": span.attributes}
    if span.events:
        body["e"] = [[e.name, e.time_unix_nano, e.attributes] for e in span.events]
    if span.links:
        body["l"] = [[lk.trace_id, lk.span_id, lk.attributes] for lk in span.links]
    return dumps(body)


def span_from_row(row: Sequence[Any], resource: Mapping[str, Any]) -> SpanRecord:
    """Rebuild a ``SpanRecord`` from a ``spans`` row (see ``SPAN_COLUMNS``)."""
    (trace_id, span_id, parent, name, kind, start, end, status_code, status_message,
     scope_name, scope_version, body_text) = row
    body = loads(body_text)
    return SpanRecord(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent,
        name=name,
        kind=kind,
        start_time_unix_nano=start,
        end_time_unix_nano=end,
        attributes=body.get("a", {}),
        events=tuple(SpanEvent(n, t, a) for n, t, a in body.get("e", ())),
        links=tuple(SpanLink(tid, sid, a) for tid, sid, a in body.get("l", ())),
        status_code=status_code,
        status_message=status_message,
        resource_attributes=resource,
        scope_name=scope_name,
        scope_version=scope_version,
    )


SPAN_COLUMNS = (
    "trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns, status_code, status_message, "
    "scope_name, scope_version, body"
)


def steps_text(steps: Sequence[Step]) -> str:
    return dumps([
        [s.kind, s.name, s.ok, s.duration_ms, s.start_time_unix_nano, s.error_type, s.chars,
         s.tool_choice, s.args_digest]
        for s in steps
    ])


def steps_from_text(text: str) -> tuple[Step, ...]:
    return tuple(
        Step(kind, name, bool(ok), duration, start, error_type, chars, tool_choice, digest)
        for kind, name, ok, duration, start, error_type, chars, tool_choice, digest in json.loads(text)
    )


RUN_COLUMNS = (
    "trace_id, agent, outcome, started_ns, duration_ms, steps, prompt_version, prompt_commit, "
    "problem_id, request_id, complete, outcome_source"
)


def run_row(run: Run) -> tuple[Any, ...]:
    outcome = None if run.outcome is None else int(run.outcome)
    return (run.trace_id, run.agent, outcome, run.started_at_unix_nano, run.duration_ms,
            steps_text(run.steps), run.prompt_version, run.prompt_commit, run.problem_id,
            run.request_id, int(run.complete), run.outcome_source)


def run_from_row(row: Sequence[Any]) -> Run:
    (trace_id, agent, outcome, started, duration, steps, prompt_version, prompt_commit,
     problem_id, request_id, complete, outcome_source) = row
    return Run(
        trace_id=trace_id,
        agent=agent,
        outcome=None if outcome is None else bool(outcome),
        started_at_unix_nano=started,
        duration_ms=duration,
        steps=steps_from_text(steps),
        prompt_version=prompt_version,
        prompt_commit=prompt_commit,
        problem_id=problem_id,
        request_id=request_id,
        complete=bool(complete),
        outcome_source=outcome_source,
    )


EVALUATION_COLUMNS = "trace_id, span_id, name, score_value, score_label, explanation, time_ns, attributes"


def evaluation_row(r: EvaluationRecord) -> tuple[Any, ...]:
    return (r.trace_id, r.span_id or "", r.name, r.score_value, r.score_label, r.explanation,
            r.time_unix_nano, dumps(dict(r.attributes)))


def evaluation_from_row(row: Sequence[Any]) -> EvaluationRecord:
    trace_id, span_id, name, score_value, score_label, explanation, time_ns, attributes = row
    return EvaluationRecord(trace_id=trace_id, span_id=span_id or None, name=name, score_value=score_value,
                            score_label=score_label, explanation=explanation, time_unix_nano=time_ns,
                            attributes=loads(attributes))


def assessment_body(a: Assessment) -> str:
    return dumps({
        "recommended_actions": list(a.recommended_actions),
        "assessment": a.assessment,
        "mode": a.mode,
        "trace_id": a.trace_id,
        "request_context": dict(a.request_context),
    })


ASSESSMENT_COLUMNS = "request_id, agent_name, reasoning_quality, should_replan, should_deepen, timestamp, body"


def assessment_from_row(row: Sequence[Any]) -> Assessment:
    request_id, agent_name, quality, replan, deepen, timestamp, body_text = row
    body = loads(body_text)
    return Assessment(
        request_id=request_id,
        reasoning_quality=quality,
        should_replan=bool(replan),
        should_deepen_reasoning=bool(deepen),
        recommended_actions=tuple(body.get("recommended_actions", ())),
        assessment=body.get("assessment", ""),
        timestamp=timestamp,
        agent_name=agent_name,
        mode=body.get("mode", "heuristic"),
        trace_id=body.get("trace_id"),
        request_context=body.get("request_context", {}),
    )
