"""otel-meta with other openai instrumentations active: one LLM span per call, in either order, and
re-instrumenting under another wrapper never traces a call twice."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import wrapt
from openai.resources.chat.completions.completions import AsyncCompletions, Completions
from openai.resources.responses.responses import AsyncResponses, Responses
from openinference.instrumentation.openai import OpenAIInstrumentor as OpenInferenceInstrumentor
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor as OpenAIV2Instrumentor
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_meta
from otel_meta import semconv as sc
from tests.analyzers.conventions import envs
from tests.otel_meta.conftest import track
from tests.support.openai_server import (
    JsonReply,
    OpenAIStandIn,
    SseReply,
    chat_completion,
    chat_stream_events,
)

MESSAGES = [{"role": "user", "content": "Why is checkout slow?"}]
TOOL_CALLS = [("call_1", "get_pods", "{}")]
_V2_SCOPE = "opentelemetry.util.genai.handler"  # openai-v2 2.4b0 records through util-genai
_OPENINFERENCE_SCOPE = "openinference.instrumentation.openai"
_METHODS = [(Completions, "create"), (AsyncCompletions, "create"), (Responses, "create"),
            (AsyncResponses, "create"), (openai.OpenAI, "request"), (openai.AsyncOpenAI, "request")]


@pytest.fixture
def others(provider: TracerProvider) -> Iterator[dict[str, Callable[[], None]]]:
    """``instrument``/``uninstrument`` callables of openai-v2 and OpenInference on the test's provider;
    afterwards every openai method is restored as it was (a wrapper under ours cannot be unwrapped)."""
    saved = {(owner, name): owner.__dict__.get(name) for owner, name in _METHODS}
    v2, openinference = OpenAIV2Instrumentor(), OpenInferenceInstrumentor()
    yield {
        "openai-v2": lambda: v2.instrument(tracer_provider=provider),
        "openinference": lambda: openinference.instrument(tracer_provider=provider),
        "uninstrument openai-v2": v2.uninstrument,
    }
    otel_meta.uninstrument()
    for other in (v2, openinference):
        if other.is_instrumented_by_opentelemetry:
            other.uninstrument()
    for (owner, name), value in saved.items():
        if value is None:
            if name in owner.__dict__:
                delattr(owner, name)
        else:
            setattr(owner, name, value)


def _llm_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans()
            if s.attributes.get(sc.GEN_AI_OPERATION_NAME) in sc.LLM_OPERATIONS
            or s.attributes.get(sc.OPENINFERENCE_SPAN_KIND) == sc.OPENINFERENCE_KIND_LLM]


def _chat(server: OpenAIStandIn, *, stream: bool = False) -> None:
    client = track(openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0))
    if stream:
        server.enqueue(SseReply(chat_stream_events("checking", tool_calls=TOOL_CALLS)))
        for _ in client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True,
                                                stream_options={"include_usage": True}):
            pass
    else:
        server.enqueue(JsonReply(chat_completion("checking", tool_calls=TOOL_CALLS)))
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)


def _async_chat(server: OpenAIStandIn) -> None:
    server.enqueue(JsonReply(chat_completion("checking", tool_calls=TOOL_CALLS)))

    async def run() -> None:
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0) as client:
            await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    asyncio.run(run())


@pytest.mark.parametrize("stream", [False, True])
def test_openai_v2_instrumented_after_otel_meta_gets_our_attributes_on_its_one_span(
    instrument: Any, others: dict[str, Callable[[], None]], server: OpenAIStandIn,
    exporter: InMemorySpanExporter, stream: bool,
) -> None:
    instrument()
    others["openai-v2"]()
    _chat(server, stream=stream)
    [span] = _llm_spans(exporter)
    assert span.instrumentation_scope.name == _V2_SCOPE
    assert span.attributes[sc.OTEL_META_RESPONSE_TOOL_CALLS] == ("get_pods",)
    assert span.attributes[sc.OTEL_META_RESPONSE_TOOL_CALL_IDS] == ("call_1",)
    assert span.attributes[sc.OTEL_META_REASONING_CHARS] == 0
    assert span.attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] == 12


def test_openai_v2_instrumented_before_otel_meta_keeps_its_one_span(
    instrument: Any, others: dict[str, Callable[[], None]], server: OpenAIStandIn,
    exporter: InMemorySpanExporter,
) -> None:
    others["openai-v2"]()
    instrument()
    _chat(server)
    _chat(server, stream=True)
    _async_chat(server)
    spans = _llm_spans(exporter)
    assert [s.instrumentation_scope.name for s in spans] == [_V2_SCOPE] * 3


@pytest.mark.parametrize("order", ["otel-meta first", "openinference first"])
def test_openinference_keeps_its_one_span_in_either_order(
    instrument: Any, others: dict[str, Callable[[], None]], server: OpenAIStandIn,
    exporter: InMemorySpanExporter, order: str,
) -> None:
    if order == "otel-meta first":
        instrument()
        others["openinference"]()
    else:
        others["openinference"]()
        instrument()
    _chat(server)
    _chat(server, stream=True)
    _async_chat(server)
    spans = _llm_spans(exporter)
    assert [s.instrumentation_scope.name for s in spans] == [_OPENINFERENCE_SCOPE] * 3


def test_otel_meta_traces_again_once_the_other_instrumentation_is_gone(
    instrument: Any, others: dict[str, Callable[[], None]], server: OpenAIStandIn,
    exporter: InMemorySpanExporter,
) -> None:
    instrument()
    others["openai-v2"]()
    others["uninstrument openai-v2"]()
    _chat(server)
    assert [s.instrumentation_scope.name for s in _llm_spans(exporter)] == ["otel_meta"]


def test_reinstrument_under_openai_v2_reuses_our_wrapper(
    instrument: Any, others: dict[str, Callable[[], None]], server: OpenAIStandIn,
    exporter: InMemorySpanExporter,
) -> None:
    instrument()
    others["openai-v2"]()
    otel_meta.uninstrument()
    _chat(server)
    [span] = _llm_spans(exporter)
    assert sc.OTEL_META_RESPONSE_TOOL_CALLS not in span.attributes
    exporter.clear()
    instrument()
    _chat(server)
    [span] = _llm_spans(exporter)
    assert span.attributes[sc.OTEL_META_RESPONSE_TOOL_CALLS] == ("get_pods",)


@wrapt.decorator
def _plain_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    return wrapped(*args, **kwargs)


def test_reinstrument_under_another_wrapper_gives_one_chat_span(
    instrument: Any, others: dict[str, Callable[[], None]], server: OpenAIStandIn,
    exporter: InMemorySpanExporter,
) -> None:
    instrument()
    Completions.create = _plain_wrapper(Completions.__dict__["create"])  # type: ignore[method-assign]
    otel_meta.uninstrument()
    _chat(server)
    assert exporter.get_finished_spans() == ()
    instrument()
    _chat(server)
    instrument()
    assert [s.name for s in exporter.get_finished_spans()] == ["chat gpt-4o-mini"]


@pytest.mark.slow
@pytest.mark.parametrize("order", ["otel-meta-first", "traceloop-first"])
def test_traceloop_keeps_its_one_span_in_either_order(order: str) -> None:
    """traceloop's instrumentor needs its own venv (tests.analyzers.conventions.envs), so this runs there."""
    python = envs.ensure("traceloop")
    client = Path(__file__).parent / "clients" / "traceloop_coexist.py"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TRACELOOP_"))}
    out = subprocess.run([str(python), str(client), order], capture_output=True, text=True, timeout=120,
                         check=True, env={**env, "OTEL_META_STRICT": "1"})
    spans = json.loads(out.stdout.strip().splitlines()[-1])
    assert [(s["scope"], s["attributes"][sc.GEN_AI_OPERATION_NAME]) for s in spans] == [
        ("opentelemetry.instrumentation.openai.v1", "chat")] * 2
    added = [s["attributes"].get(sc.OTEL_META_RESPONSE_TOOL_CALLS) for s in spans]
    assert added == ([["get_pods"]] * 2 if order == "otel-meta-first" else [None, None])
