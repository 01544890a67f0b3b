"""assemble_run over SpanRecords built directly (plain data)."""

from __future__ import annotations

import random

from analyzers.conventions import assemble_run
from analyzers.model import SpanEvent, SpanRecord
from otel_meta import semconv as sc

T = "ab" * 16


def rec(span_id: str, name: str, parent: str | None, start: int, attrs: dict, *, status: int = 0,
        events: tuple = ()) -> SpanRecord:
    return SpanRecord(T, span_id, parent, name, 1, start * 1_000_000, (start + 10) * 1_000_000, attrs,
                      events=events, status_code=status, resource_attributes={sc.SERVICE_NAME: "svc"})


def otel_meta_trace() -> list[SpanRecord]:
    return [
        rec("a" * 16, "invoke_agent diag", None, 0, {
            sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: "diag",
            sc.OTEL_META_OUTCOME: sc.OUTCOME_SUCCESS, sc.OTEL_META_PROMPT_VERSION: "2.0.0",
            sc.OTEL_META_PROMPT_COMMIT: "abc123", sc.OTEL_META_PROBLEM_ID: "p-1", sc.OTEL_META_REQUEST_ID: "r-1"}),
        rec("b" * 16, "plan diag", "a" * 16, 1, {sc.GEN_AI_OPERATION_NAME: sc.OP_PLAN,
                                                 sc.OTEL_META_THINKING_CHARS: 300,
                                                 sc.OTEL_META_THINKING_TOOL_CHOICE: "get_pods"}),
        rec("c" * 16, "execute_tool get_pods", "a" * 16, 2, {sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL,
                                                             sc.GEN_AI_TOOL_CALL_ARGUMENTS: '{"ns": "x"}'},
            status=2, events=(SpanEvent("exception", 1, {sc.EXCEPTION_TYPE: "TimeoutError"}),)),
        rec("d" * 16, "chat gpt", "a" * 16, 3, {sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT,
                                                sc.GEN_AI_REQUEST_MODEL: "gpt", sc.OTEL_META_REASONING_CHARS: 5}),
        rec("e" * 16, "GET /healthz", "a" * 16, 4, {"http.method": "GET"}),
    ]


def test_otel_meta_spans_in_any_order_give_the_same_run():
    spans = otel_meta_trace()
    expected = assemble_run(spans)
    for seed in range(5):
        shuffled = spans[:]
        random.Random(seed).shuffle(shuffled)
        assert assemble_run(shuffled) == expected
    run = expected
    assert (run.agent, run.outcome, run.prompt_version, run.prompt_commit, run.problem_id, run.request_id) == (
        "diag", True, "2.0.0", "abc123", "p-1", "r-1")
    assert [(s.kind, s.name, s.ok, s.error_type) for s in run.steps] == [
        ("thinking", "plan", True, None), ("tool", "get_pods", False, "TimeoutError"), ("llm", "gpt", True, None)]
    assert (run.steps[0].chars, run.steps[0].tool_choice, run.steps[2].chars) == (300, "get_pods", 5)
    assert run.steps[1].args_digest is not None and run.complete and run.duration_ms == 10


def test_missing_root_is_pending_and_error_type_attribute_wins_over_the_event():
    spans = otel_meta_trace()[1:]
    failing = rec("f" * 16, "execute_tool x", "a" * 16, 5,
                  {sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL, sc.ERROR_TYPE: "Quota"},
                  events=(SpanEvent("exception", 1, {sc.EXCEPTION_TYPE: "RuntimeError"}),))
    run = assemble_run(spans + [failing])
    assert run is not None and not run.complete and run.agent == "svc" and run.outcome is None
    assert run.steps[-1].error_type == "Quota"


def test_agent_span_with_a_remote_parent_completes_the_run():
    spans = otel_meta_trace()
    agent = spans[0]
    remote_child = SpanRecord(**{**{f: getattr(agent, f) for f in agent.__slots__}, "parent_span_id": "9" * 16})
    assert assemble_run([remote_child] + spans[1:]).complete


def test_openinference_chain_without_agent_uses_agent_name_attribute():
    spans = [
        rec("a" * 16, "pipeline", None, 0, {sc.OPENINFERENCE_SPAN_KIND: "CHAIN", sc.OPENINFERENCE_AGENT_NAME: "rag"}),
        rec("b" * 16, "lookup", "a" * 16, 1, {sc.OPENINFERENCE_SPAN_KIND: "TOOL", sc.OPENINFERENCE_TOOL_NAME: "kb"}),
        rec("c" * 16, "retrieve", "a" * 16, 2, {sc.OPENINFERENCE_SPAN_KIND: "RETRIEVER"}),
    ]
    run = assemble_run(spans)
    assert run.agent == "rag" and [s.name for s in run.steps] == ["kb"]


def test_traceloop_workflow_is_the_agent_when_no_agent_span_and_a_task_is_no_tool():
    spans = [
        rec("a" * 16, "flow.workflow", None, 0, {sc.TRACELOOP_SPAN_KIND: "workflow", sc.TRACELOOP_ENTITY_NAME: "triage"}),
        rec("b" * 16, "openai.chat", "a" * 16, 1, {sc.LLM_REQUEST_TYPE: "chat", sc.GEN_AI_REQUEST_MODEL: "m"}),
        rec("c" * 16, "step.task", "a" * 16, 2, {sc.TRACELOOP_SPAN_KIND: "task", sc.TRACELOOP_ENTITY_NAME: "classify"}),
    ]
    run = assemble_run(spans)
    assert run.agent == "triage" and [(s.kind, s.name) for s in run.steps] == [("llm", "m")]


def test_a_trace_without_genai_spans_is_not_a_run():
    assert assemble_run([rec("a" * 16, "GET /", None, 0, {"http.method": "GET"})]) is None
    assert assemble_run([]) is None
