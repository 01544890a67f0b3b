"""The seed's imperative recorder API emits the decorators' span shapes."""

from __future__ import annotations

import json
import time
from typing import Any

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import otel_meta
from otel_meta import semconv as sc


def test_recorder_emits_run_tool_and_thinking_spans(instrumented: None, exporter: InMemorySpanExporter) -> None:
    problem = otel_meta.ProblemContext(problem_id="problem_123", app_name="hotel-reservation",
                                       app_namespace="hotel-reservation", app_description="microservices")
    otel_trace_id = otel_meta.collect_agent_trace("trace_001", otel_meta.AgentType.DIAGNOSIS, problem)
    otel_meta.add_thinking_step("trace_001", "I need to check pod status first", "get_pods", "visibility")
    before = time.time_ns()
    otel_meta.add_tool_call("trace_001", "get_pods", {"namespace": "hotel-reservation"}, True,
                            "Found 5 pods running", 1.2)
    otel_meta.add_tool_call("trace_001", "get_logs", {"pod": "x"}, False, "timeout", 0.5)
    otel_meta.end_agent_trace("trace_001", success=True, final_submission="Database connection issue")
    spans = {s.name: s for s in exporter.get_finished_spans()}
    run = spans["invoke_agent diagnosis"]
    assert otel_trace_id == format(run.context.trace_id, "032x")
    assert run.attributes[sc.OTEL_META_REQUEST_ID] == "trace_001"
    assert run.attributes[sc.OTEL_META_PROBLEM_ID] == "problem_123"
    assert run.attributes[sc.OTEL_META_APP_NAME] == "hotel-reservation"
    assert run.attributes[sc.OTEL_META_OUTCOME] == sc.OUTCOME_SUCCESS
    pods = spans["execute_tool get_pods"]
    assert pods.parent is not None and pods.parent.span_id == run.context.span_id
    assert abs((pods.end_time - pods.start_time) - 1_200_000_000) < 1000
    assert pods.start_time < before
    assert sc.GEN_AI_TOOL_CALL_ARGUMENTS not in pods.attributes
    failed = spans["execute_tool get_logs"]
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.attributes[sc.ERROR_TYPE] == sc.ERROR_TYPE_OTHER
    think = spans["think diagnosis"]
    assert think.attributes[sc.OTEL_META_THINKING_TOOL_CHOICE] == "get_pods"
    assert think.attributes[sc.OTEL_META_THINKING_CHARS] == len("I need to check pod status first")


def test_recorder_captures_content_when_on(instrument: Any, exporter: InMemorySpanExporter) -> None:
    instrument(capture_content=True)
    otel_meta.collect_agent_trace("t2", "mitigation")
    otel_meta.add_tool_call("t2", "scale", {"replicas": 3, "owner": "ops@example.com"}, True, {"ok": True}, 0.1)
    otel_meta.end_agent_trace("t2", False, "rolled back")
    spans = {s.name: s for s in exporter.get_finished_spans()}
    tool = spans["execute_tool scale"]
    assert json.loads(tool.attributes[sc.GEN_AI_TOOL_CALL_ARGUMENTS]) == {"replicas": 3, "owner": "[REDACTED]"}
    assert json.loads(tool.attributes[sc.GEN_AI_TOOL_CALL_RESULT]) == {"ok": True}
    run = spans["invoke_agent mitigation"]
    assert run.attributes[sc.OTEL_META_OUTCOME] == sc.OUTCOME_FAILURE
    assert run.attributes[sc.OTEL_META_SUBMISSION] == "rolled back"


def test_recorder_unknown_trace_id_is_ignored(instrumented: None, exporter: InMemorySpanExporter) -> None:
    otel_meta.add_tool_call("never-started", "x", None, True, None, 0.1)
    otel_meta.end_agent_trace("never-started", True)
    assert exporter.get_finished_spans() == ()


def test_recorder_none_values_are_absent_not_the_string_none(
    instrument: Any, exporter: InMemorySpanExporter
) -> None:
    instrument(capture_content=True)
    otel_meta.collect_agent_trace(None, "diagnosis")  # type: ignore[arg-type]
    otel_meta.add_thinking_step(None, None)  # type: ignore[arg-type]
    otel_meta.end_agent_trace(None, True)  # type: ignore[arg-type]

    @otel_meta.agent("localization")
    def localize() -> None:
        otel_meta.thinking(None)  # type: ignore[arg-type]

    localize()
    spans = exporter.get_finished_spans()
    [run] = [s for s in spans if s.name == "invoke_agent diagnosis"]
    assert sc.OTEL_META_REQUEST_ID not in run.attributes
    for span in spans:
        assert "None" not in span.attributes.values(), span.name
    thinks = [s for s in spans if s.name.startswith("think")]
    assert [t.attributes[sc.OTEL_META_THINKING_CHARS] for t in thinks] == [0, 0]
