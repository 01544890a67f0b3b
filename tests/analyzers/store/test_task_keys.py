"""The fallback task key: real otel-meta spans (recorder and OpenAI client) through the real store and
assembly, on SQLite and PostgreSQL, and the miner's choice of grouping."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import otel_meta
from analyzers.assembly import RunAssembler
from analyzers.model import Run
from analyzers.store.base import Store
from analyzers.store.exporter import StoreSpanExporter
from tests.support.openai_server import JsonReply, OpenAIStandIn, chat_completion


@pytest.fixture
def recorded(any_store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[TracerProvider]:
    """otel-meta instrumented with a provider that exports into ``any_store``."""
    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(StoreSpanExporter(any_store)))
    yield provider
    otel_meta.uninstrument()
    provider.shutdown()


def _runs(store: Store) -> dict[str, Run]:
    RunAssembler(store).assemble_pending()
    return {r.request_id or r.trace_id: r for r in store.iter_runs("diagnosis")}


def _record(request_id: str, problem: otel_meta.ProblemContext | None) -> None:
    otel_meta.collect_agent_trace(request_id, otel_meta.AgentType.DIAGNOSIS, problem)
    otel_meta.add_tool_call(request_id, "get_pods", {"ns": "x"}, True, "ok", 0.1)
    otel_meta.end_agent_trace(request_id, success=True)


def test_problem_context_is_the_fallback_key(any_store: Store, recorded: TracerProvider) -> None:
    otel_meta.instrument(tracer_provider=recorded)
    hotel = {"app_name": "hotel-reservation", "app_namespace": "hotel", "app_description": "microservices"}
    _record("r1", otel_meta.ProblemContext("incident-1", **hotel))
    _record("r2", otel_meta.ProblemContext("incident-2", **hotel))
    _record("r3", otel_meta.ProblemContext("incident-3", app_name="social-network"))
    _record("r4", otel_meta.ProblemContext("incident-4"))
    _record("r5", None)
    runs = _runs(any_store)
    assert [runs[r].problem_id for r in ("r1", "r2", "r3")] == ["incident-1", "incident-2", "incident-3"]
    assert runs["r1"].task_key_source == runs["r3"].task_key_source == "problem_context"
    assert runs["r1"].task_key == runs["r2"].task_key != runs["r3"].task_key
    assert runs["r1"].task_key is not None and "hotel" not in runs["r1"].task_key  # a digest, not the text
    for bare in ("r4", "r5"):
        assert (runs[bare].task_key, runs[bare].task_key_source) == (None, None)


@pytest.mark.parametrize("mode", ["SPAN_ONLY", "EVENT_ONLY"])
def test_first_user_message_is_the_key_when_content_is_captured(
    any_store: Store, recorded: TracerProvider, mode: str
) -> None:
    otel_meta.instrument(tracer_provider=recorded, capture_content=mode)
    questions = ["Why is checkout slow?", "Why is checkout slow?", "Why is login down?"]
    with OpenAIStandIn() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0)

        @otel_meta.agent("diagnosis")
        def diagnose(i: int, question: str) -> None:
            server.enqueue(JsonReply(chat_completion("looking")), JsonReply(chat_completion("done")))
            messages = [{"role": "system", "content": "You are an SRE."}, {"role": "user", "content": question}]
            client.chat.completions.create(model="gpt-4o-mini", messages=messages)
            follow_up = [*messages, {"role": "assistant", "content": "looking"},
                         {"role": "user", "content": f"and now? ({i})"}]
            client.chat.completions.create(model="gpt-4o-mini", messages=follow_up)
            otel_meta.set_outcome(i % 2 == 0)

        try:
            for i, question in enumerate(questions):
                diagnose(i, question)
        finally:
            client.close()
    runs = sorted(_runs(any_store).values(), key=lambda r: r.started_at_unix_nano)
    assert len(runs) == 3 and [len(r.steps) for r in runs] == [2, 2, 2]
    keys = [r.task_key for r in runs]
    assert all(r.task_key_source == "first_message" for r in runs)
    assert keys[0] == keys[1] != keys[2] and keys[0] is not None and "checkout" not in keys[0]


def test_without_capture_or_context_there_is_no_key(any_store: Store, recorded: TracerProvider) -> None:
    otel_meta.instrument(tracer_provider=recorded)
    with OpenAIStandIn() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0)

        @otel_meta.agent("diagnosis")
        def diagnose() -> None:
            server.enqueue(JsonReply(chat_completion("looking")))
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Why?"}])
            otel_meta.set_outcome(True)

        try:
            diagnose()
        finally:
            client.close()
    (run,) = _runs(any_store).values()
    assert (run.task_key, run.task_key_source) == (None, None)


def test_the_older_user_message_event_is_read_too(any_store: Store, recorded: TracerProvider) -> None:
    """Instrumentations of the older event form put each input message in a ``gen_ai.user.message``
    event with a ``content`` attribute."""
    from opentelemetry import trace

    from otel_meta import semconv as sc

    tracer = recorded.get_tracer("older-genai")
    for i, question in enumerate(["Refund order 7", "Refund order 7", "Cancel order 9"]):
        with tracer.start_as_current_span("invoke_agent support", attributes={
                sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: "diagnosis",
                sc.OTEL_META_OUTCOME: sc.OUTCOME_SUCCESS}):
            with tracer.start_as_current_span("chat m", kind=trace.SpanKind.CLIENT,
                                              attributes={sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT}) as chat:
                chat.add_event("gen_ai.system.message", {sc.EVENT_CONTENT: "Be kind."})
                chat.add_event(sc.EVENT_USER_MESSAGE, {sc.EVENT_CONTENT: question})
            with tracer.start_as_current_span("execute_tool refund", attributes={
                    sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL, sc.GEN_AI_TOOL_NAME: f"refund{i}"}):
                pass
    runs = sorted(_runs(any_store).values(), key=lambda r: r.started_at_unix_nano)
    assert [r.task_key_source for r in runs] == ["first_message"] * 3
    assert runs[0].task_key == runs[1].task_key != runs[2].task_key
