"""The seed's imperative recorder API, for agents that log steps after the fact.

``collect_agent_trace`` opens an agent run, ``add_tool_call`` / ``add_thinking_step`` add its steps,
``end_agent_trace`` closes it with its outcome. The spans are exactly those of the decorators
(``otel_meta._spans``); a tool call ends now and starts ``duration`` seconds earlier. The seed's
``trace_id`` is the caller's id for the run and is written as ``otel_meta.request.id``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span

from otel_meta import _runtime, _spans
from otel_meta import semconv as sc
from otel_meta._content import safe_str
from otel_meta._guard import internal_error
from otel_meta._problem import AgentType, ProblemContext, agent_name

_log = logging.getLogger(__name__)
_runs: dict[str, _RecordedRun] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class _RecordedRun:
    agent: str
    span: Span
    context: Context


def _run(trace_id: str, site: str) -> _RecordedRun | None:
    with _lock:
        run = _runs.get(trace_id)
    if run is None:
        _log.warning("otel_meta.%s: no agent trace %r was started with collect_agent_trace", site, trace_id)
    return run


def collect_agent_trace(trace_id: str, agent_type: AgentType | str,
                        problem_context: ProblemContext | None = None) -> str | None:
    """Start recording an agent run; returns its OpenTelemetry trace id (32 hex digits)."""
    try:
        agent = agent_name(agent_type)
        span = _spans.start_agent_span(_runtime.tracer(), agent, problem=problem_context,
                                       request_id=None if trace_id is None else safe_str(trace_id))
        _runtime.stamp_prompt(span, _runtime.active_prompt(agent))
        with _lock:
            _runs[str(trace_id)] = _RecordedRun(agent, span, trace.set_span_in_context(span))
        return format(span.get_span_context().trace_id, "032x")
    except Exception as exc:  # noqa: BLE001 - the guard decides
        internal_error("recorder.collect", exc)
        return None


def add_tool_call(trace_id: str, tool_name: str, arguments: Any = None, success: bool = True,
                  response: Any = None, duration: float = 0.0) -> None:
    """Record a tool call of the run that took ``duration`` seconds and ended now."""
    try:
        run = _run(str(trace_id), "add_tool_call")
        if run is None:
            return
        end = time.time_ns()
        start = end - max(0, int(float(duration) * 1e9))
        policy = _runtime.policy()
        capture = policy.mode.enabled
        span = _spans.start_tool_span(
            _runtime.tracer(), safe_str(tool_name), context=run.context, start_time=start,
            arguments=policy.json(arguments) if capture and arguments is not None else None,
        )
        if capture and response is not None:
            _spans.set_tool_result(span, policy.json(response))
        if not success:
            _spans.set_error(span, sc.ERROR_TYPE_OTHER)
        span.end(end_time=end)
    except Exception as exc:  # noqa: BLE001
        internal_error("recorder.tool", exc)


def add_thinking_step(trace_id: str, reasoning: str, tool_choice: str | None = None,
                      justification: str | None = None) -> None:
    """Record a thinking step of the run, now."""
    try:
        run = _run(str(trace_id), "add_thinking_step")
        if run is None:
            return
        text = "" if reasoning is None else safe_str(reasoning)
        policy = _runtime.policy()
        capture = policy.mode.enabled
        _spans.record_thinking(
            _runtime.tracer(), run.agent, chars=len(text), context=run.context,
            tool_choice=safe_str(tool_choice) if tool_choice is not None else None,
            reasoning=policy.text(text) if capture else None,
            justification=policy.text(safe_str(justification)) if capture and justification is not None else None,
        )
    except Exception as exc:  # noqa: BLE001
        internal_error("recorder.thinking", exc)


def end_agent_trace(trace_id: str, success: bool, final_submission: Any = None) -> None:
    """Close the run with its outcome (the submission is recorded only with content capture on)."""
    try:
        with _lock:
            run = _runs.pop(str(trace_id), None)
        if run is None:
            _log.warning("otel_meta.end_agent_trace: no agent trace %r is open", trace_id)
            return
        policy = _runtime.policy()
        submission = None
        if final_submission is not None and policy.mode.enabled:
            submission = policy.text(final_submission if isinstance(final_submission, str)
                                     else policy.json(final_submission))
        _spans.set_outcome(run.span, bool(success), submission)
        run.span.end()
    except Exception as exc:  # noqa: BLE001
        internal_error("recorder.end", exc)
