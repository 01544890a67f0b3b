"""Agent-less LLM calls grouped by ``gen_ai.conversation.id``: real SDK spans, exported over OTLP/HTTP
to a real ``AnalyzerServer`` (SQLite store), read back through its REST API.

The spans have the shape openai-v2 gives a hand-written loop (each call a root span of its own trace);
the conversation id reaches them through the W3C baggage and a span processor, the way
``opentelemetry-processor-baggage`` does it (openai-v2 2.4b0 sets none itself).
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest
from opentelemetry import baggage, context
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import StatusCode

from otel_meta import semconv as sc

T = TypeVar("T")
MODEL = "gpt-4o-mini-2024-07-18"


class ConversationFromBaggage(SpanProcessor):
    """Copies the baggage entry ``gen_ai.conversation.id`` onto each span as it starts."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        value = baggage.get_baggage(sc.GEN_AI_CONVERSATION_ID, parent_context)
        if isinstance(value, str):
            span.set_attribute(sc.GEN_AI_CONVERSATION_ID, value)

    def on_end(self, span: ReadableSpan) -> None:
        return


class Client:
    """A hand-written loop's telemetry: one root ``chat`` span per model call, exported at its end."""

    def __init__(self, base_url: str) -> None:
        self.provider = TracerProvider(resource=Resource.create({sc.SERVICE_NAME: "chat-loop"}))
        self.provider.add_span_processor(ConversationFromBaggage())
        self.provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=base_url + "/v1/traces")))
        self.tracer = self.provider.get_tracer("opentelemetry.instrumentation.openai_v2", "2.4b0")

    @contextmanager
    def conversation(self, conversation_id: str) -> Iterator[None]:
        token = context.attach(baggage.set_baggage(sc.GEN_AI_CONVERSATION_ID, conversation_id))
        try:
            yield
        finally:
            context.detach(token)

    def call(self, *, failed: bool = False, evaluation: str | None = None) -> str:
        """One model call as its own trace (no current span: a new root); return its trace id."""
        with self.tracer.start_as_current_span(f"chat {MODEL}", context=_carry_baggage(), attributes={
                sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT, sc.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
                sc.GEN_AI_RESPONSE_MODEL: MODEL}) as span:
            if failed:
                span.set_attribute(sc.ERROR_TYPE, "BadRequestError")
                span.set_status(StatusCode.ERROR)
            if evaluation is not None:
                span.add_event(sc.EVENT_EVALUATION_RESULT, {sc.GEN_AI_EVALUATION_NAME: "task_success",
                                                            sc.GEN_AI_EVALUATION_SCORE_LABEL: evaluation})
            return format(span.get_span_context().trace_id, "032x")

    def agent_run(self) -> str:
        with self.tracer.start_as_current_span("invoke_agent helper", context=_carry_baggage(), attributes={
                sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: "helper"}) as span:
            with self.tracer.start_as_current_span(f"chat {MODEL}", attributes={
                    sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT, sc.GEN_AI_REQUEST_MODEL: "gpt-4o-mini"}):
                pass
            return format(span.get_span_context().trace_id, "032x")


def _carry_baggage() -> Context:
    """A context with no current span (the next span is a root) that keeps the current baggage."""
    ctx = Context()
    for key, value in baggage.get_all().items():
        ctx = baggage.set_baggage(key, value, ctx)
    return ctx


def until(probe: Callable[[], T | None], what: str, timeout: float = 10.0) -> T:
    """``probe()`` once it is truthy (assembly may follow the OTLP acknowledgement)."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def rest(base_url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(base_url + path, method="GET" if body is None else "POST",
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def client(analyzer) -> Iterator[Client]:
    server, _ = analyzer
    c = Client(server.base_url)
    yield c
    c.provider.shutdown()


def test_a_conversations_calls_are_one_run_and_every_trace_finds_it(analyzer, client):
    server, store = analyzer
    with client.conversation("conv-1"):
        first = client.call()
    with client.conversation("conv-2"):
        other = client.call()
    with client.conversation("conv-1"):
        second, third = client.call(), client.call(failed=True)
    lone = client.call()  # no conversation id: a lone call, no run
    runs = until(lambda: (r if len(r := rest(server.base_url, "/api/runs")) == 2
                          and len(r[1]["trace_ids"]) == 3 else None), "the two conversations' runs")
    assert [(r["trace_id"], r["conversation_id"], r["agent"], r["outcome"]) for r in runs] == [
        (other, "conv-2", "chat-loop", None), (first, "conv-1", "chat-loop", None)]
    assert runs[1]["trace_ids"] == [first, second, third]
    assert [(s["kind"], s["name"], s["ok"]) for s in runs[1]["steps"]] == [
        ("llm", MODEL, True), ("llm", MODEL, True), ("llm", MODEL, False)]
    assert rest(server.base_url, f"/api/runs/{third}") == runs[1]
    assert store.get_run(lone) is None and store.spans_for_trace(lone)


def test_a_late_call_and_an_outcome_posted_to_any_trace_reach_the_run(analyzer, client):
    server, store = analyzer
    with client.conversation("conv-9"):
        first, second = client.call(), client.call()
    until(lambda: (r := store.get_run(second)) and len(r.trace_ids) == 2, "the run of two calls")
    posted = rest(server.base_url, f"/api/runs/{second}/outcome", {"success": False, "submission": "wrong city"})
    assert (posted["trace_id"], posted["outcome"], posted["outcome_source"]) == (first, "failure", "api")
    with client.conversation("conv-9"):
        late = client.call()
    run = until(lambda: (r := store.get_run(late)) and len(r.trace_ids) == 3 and r, "the late call's run")
    assert (run.trace_id, run.outcome, run.outcome_source) == (first, False, "api")
    assert store.count_runs() == 1 and store.submission(second) == "wrong city"


def test_an_evaluation_event_on_any_call_gives_the_outcome(analyzer, client):
    _, store = analyzer
    with client.conversation("conv-e"):
        first = client.call()
        client.call(evaluation="pass")
    run = until(lambda: (r := store.get_run(first)) and r.outcome is not None and r, "the evaluated run")
    assert (run.outcome, run.outcome_source, len(run.trace_ids)) == (True, "evaluation", 2)


def test_runs_with_an_agent_span_stay_one_per_trace(analyzer, client):
    _, store = analyzer
    with client.conversation("conv-a"):
        turns = [client.agent_run(), client.agent_run()]
    runs = until(lambda: [r for t in turns if (r := store.get_run(t))] if all(map(store.get_run, turns)) else None,
                 "the agent runs")
    assert [(r.trace_id, r.agent, r.conversation_id, r.trace_ids) for r in runs] == [
        (turns[0], "helper", None, ()), (turns[1], "helper", None, ())]
    spans = store.spans_for_trace(turns[0])
    assert {s.attributes[sc.GEN_AI_CONVERSATION_ID] for s in spans} == {"conv-a"}  # they did carry it
