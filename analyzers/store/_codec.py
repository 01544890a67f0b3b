"""How the stores lay spans, runs, evaluations and assessments out in rows (JSON bodies), and back.

A span keeps everything OTLP carried: attributes, events, links, status, scope and resource (the
resource is stored once in its own table and referenced). Byte-string attribute values, which JSON has
no type for, are written as ``{"$bytes": "<base64>"}``; a user's own map whose only key is ``$bytes`` or
``$map`` is written as ``{"$map": [[key, value]]}``, so decoding never mistakes one for the other. NaN and
the infinities are kept (JSON's ``NaN``/``Infinity`` extension, which both backends store as text).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from analyzers.model import Assessment, EvaluationRecord, Run, SpanEvent, SpanLink, SpanRecord, Step
from otel_meta import semconv as sc

_BYTES_TAG = "$bytes"
_MAP_TAG = "$map"
_TAGS = (_BYTES_TAG, _MAP_TAG)
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=lambda o: _default(o))


def _default(obj: Any) -> Any:
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return {_BYTES_TAG: base64.b64encode(bytes(obj)).decode("ascii")}
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    raise TypeError(f"cannot store attribute value of type {type(obj).__name__}")


def _escaped(obj: Any) -> Any:
    """``obj`` with every user map that could read as a tag rewritten as ``{"$map": pairs}``."""
    if isinstance(obj, Mapping):
        if len(obj) == 1 and next(iter(obj)) in _TAGS:
            return {_MAP_TAG: [[k, _escaped(v)] for k, v in obj.items()]}
        return {k: _escaped(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_escaped(v) for v in obj]
    return obj


def _tag_hook(obj: dict[str, Any]) -> Any:
    if len(obj) != 1:
        return obj
    pairs = obj.get(_MAP_TAG)
    if isinstance(pairs, list) and all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)
                                       for p in pairs):
        return {k: v for k, v in pairs}
    if _BYTES_TAG in obj and isinstance(obj[_BYTES_TAG], str):
        try:
            return base64.b64decode(obj[_BYTES_TAG], validate=True)
        except ValueError:  # a user's map written before the $map escape existed: keep it as it was
            return obj
    return obj


def dumps(obj: Any) -> str:
    """JSON text of ``obj`` (see the module docstring for bytes, tag-like maps and NaN)."""
    text = _ENCODER.encode(obj)
    if any(tag in text for tag in _TAGS):  # rare: only then pay for a second, escaping pass
        text = _ENCODER.encode(_escaped(obj))
    return text


def loads(text: str) -> Any:
    """The value ``dumps`` wrote."""
    if any(tag in text for tag in _TAGS):
        return json.loads(text, object_hook=_tag_hook)
    return json.loads(text)


def resource_key(attributes: Mapping[str, Any]) -> tuple[str, str]:
    """The resource's JSON and a digest that identifies it."""
    text = dumps(dict(sorted(attributes.items())))
    return text, hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def text_columns(span: SpanRecord) -> tuple[str, str, str, str]:
    """A span's name, status message and scope as a store can put them in text columns that refuse
    NUL characters (PostgreSQL); ``span_body(span, nul_free=True)`` then keeps the originals."""
    values = (span.name, span.status_message, span.scope_name, span.scope_version)
    if "\x00" not in "".join(values):
        return values
    return tuple(v.replace("\x00", "\ufffd") for v in values)  # type: ignore[return-value]


def span_body(span: SpanRecord, *, nul_free: bool = False) -> str:
    """Attributes, events and links of a span as one JSON text (with ``nul_free``, also the text
    fields that ``text_columns`` had to change)."""
    body: dict[str, Any] = {"a": span.attributes}
    if nul_free:
        values = (span.name, span.status_message, span.scope_name, span.scope_version)
        if "\x00" in "".join(values):
            body["n"] = list(values)
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
    if "n" in body:
        name, status_message, scope_name, scope_version = body["n"]
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
    "problem_id, request_id, complete, outcome_source, conversation_id, trace_ids, task_key, task_key_source"
)


def run_row(run: Run) -> tuple[Any, ...]:
    outcome = None if run.outcome is None else int(run.outcome)
    return (run.trace_id, run.agent, outcome, run.started_at_unix_nano, run.duration_ms,
            steps_text(run.steps), run.prompt_version, run.prompt_commit, run.problem_id,
            run.request_id, int(run.complete), run.outcome_source, run.conversation_id,
            dumps(list(run.trace_ids)) if run.trace_ids else None, run.task_key, run.task_key_source)


def run_from_row(row: Sequence[Any]) -> Run:
    (trace_id, agent, outcome, started, duration, steps, prompt_version, prompt_commit,
     problem_id, request_id, complete, outcome_source, conversation_id, trace_ids, task_key,
     task_key_source) = row
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
        conversation_id=conversation_id,
        trace_ids=tuple(json.loads(trace_ids)) if trace_ids else (),
        task_key=task_key,
        task_key_source=task_key_source,
    )


#: Where ``iter_runs`` starts: before every (started_ns, trace_id) key.
FIRST_RUN_KEY: tuple[int, str] = (-(1 << 63), "")


def run_pages(fetch: Callable[[tuple[int, str], int], Sequence[Sequence[Any]]], batch: int) -> Iterator[Run]:
    """The runs of keyset pages: ``fetch(after, batch)`` returns up to ``batch`` run rows ordered by
    (started_ns, trace_id) after the key ``after`` (both stores' ``iter_runs``)."""
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch!r}")
    return _pages(fetch, int(batch))


def _pages(fetch: Callable[[tuple[int, str], int], Sequence[Sequence[Any]]], batch: int) -> Iterator[Run]:
    after = FIRST_RUN_KEY
    while True:
        rows = fetch(after, batch)
        for row in rows:
            yield run_from_row(row)
        if len(rows) < batch:
            return
        after = (rows[-1][3], rows[-1][0])


def run_filter(mark: str, agent: str | None, *, with_outcome: bool = False, include_pending: bool = False,
               since_unix_nano: int | None = None) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause of a run query and its parameters; ``mark`` is the driver's placeholder."""
    clauses: list[str] = []
    params: list[Any] = []
    if agent is not None:
        clauses.append(f"agent = {mark}")
        params.append(agent)
    if with_outcome:
        clauses.append("outcome IS NOT NULL")
    if not include_pending:
        clauses.append("complete = 1")
    if since_unix_nano is not None:
        clauses.append(f"started_ns >= {mark}")
        params.append(int(since_unix_nano))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


EVALUATION_COLUMNS = "trace_id, span_id, name, score_value, score_label, explanation, time_ns, attributes"


def evaluation_row(r: EvaluationRecord) -> tuple[Any, ...]:
    """An evaluation's ``EVALUATION_COLUMNS`` values; ``span_id`` is ``''`` when it names only its trace."""
    score = None if r.score_value is None else float(r.score_value)
    return (r.trace_id, r.span_id or "", r.name, score, r.score_label, r.explanation, int(r.time_unix_nano),
            dumps(dict(r.attributes)))


def evaluation_from_row(row: Sequence[Any]) -> EvaluationRecord:
    trace_id, span_id, name, score_value, score_label, explanation, time_ns, attributes = row
    return EvaluationRecord(trace_id=trace_id, span_id=span_id or None, name=name, score_value=score_value,
                            score_label=score_label, explanation=explanation, time_unix_nano=time_ns,
                            attributes=loads(attributes))


def iso_to_ns(ts: str) -> int:
    """An ISO 8601 timestamp (``Z`` or an offset; naive means UTC) as Unix nanoseconds."""
    dt = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp() * 1_000_000) * 1000


def assessment_row(a: Assessment) -> tuple[Any, ...]:
    """The ``ASSESSMENT_COLUMNS`` values of ``a``, then its ``ts_ns``."""
    return (a.request_id, a.agent_name, float(a.reasoning_quality), int(a.should_replan),
            int(a.should_deepen_reasoning), a.timestamp, assessment_body(a), iso_to_ns(a.timestamp))


def assessment_filter(mark: str, low: float | None, high: float | None, should_replan: bool | None,
                      should_deepen: bool | None, start: str | None, end: str | None) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause of an assessment query and its parameters (``mark``: the placeholder)."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, op, value in (("reasoning_quality", ">=", low), ("reasoning_quality", "<=", high),
                              ("should_replan", "=", should_replan), ("should_deepen", "=", should_deepen),
                              ("ts_ns", ">=", None if start is None else iso_to_ns(start)),
                              ("ts_ns", "<=", None if end is None else iso_to_ns(end))):
        if value is not None:
            clauses.append(f"{column} {op} {mark}")
            params.append(int(value) if isinstance(value, (bool, int)) else float(value))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


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


def conversation_pairs(spans: Sequence[SpanRecord]) -> list[tuple[str, str]]:
    """The (conversation id, trace id) pairs the spans name with ``gen_ai.conversation.id`` (a
    non-empty string), sorted: the rows of the stores' cross-trace conversation index."""
    return sorted({(value, s.trace_id) for s in spans
                   if isinstance(value := s.attributes.get(sc.GEN_AI_CONVERSATION_ID), str) and value})
