"""responses.create (reasoning summaries, function_call items), sync/async, streaming and not."""

from __future__ import annotations

import asyncio
import json

import openai
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from otel_meta import semconv as sc
from tests.otel_meta.conftest import only_span, track
from tests.support.openai_server import (
    JsonReply,
    OpenAIStandIn,
    SseReply,
    responses_body,
    responses_stream_events,
)


def _client(server: OpenAIStandIn) -> openai.OpenAI:
    return track(openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0))


def test_response_records_reasoning_summary_and_function_calls(
    instrumented: None, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    server.enqueue(JsonReply(responses_body("", reasoning_summary="Check pods.", reasoning_tokens=4,
                                            function_calls=[("call_a", "get_pods", "{}")])))
    response = _client(server).responses.create(model="o4-mini", input="why slow?", max_output_tokens=99)
    assert response.output[1].type == "function_call"
    span = only_span(exporter, "chat")
    attrs = span.attributes
    assert span.name == "chat o4-mini"
    assert attrs[sc.GEN_AI_RESPONSE_MODEL] == "o4-mini-2025-04-16"
    assert attrs[sc.GEN_AI_REQUEST_MAX_TOKENS] == 99
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 20 and attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 9
    assert attrs[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 4
    assert attrs[sc.OTEL_META_RESPONSE_TOOL_CALLS] == ("get_pods",)
    assert attrs[sc.OTEL_META_RESPONSE_TOOL_CALL_IDS] == ("call_a",)
    assert attrs[sc.OTEL_META_REASONING_CHARS] == len("Check pods.")
    assert attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)


def test_function_call_without_call_id_is_empty_never_none(
    instrumented: None, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    body = responses_body("", function_calls=[("call_a", "get_pods", "{}")])
    del body["output"][0]["call_id"]
    server.enqueue(JsonReply(body))
    _client(server).responses.create(model="o4-mini", input="why slow?")
    attrs = only_span(exporter, "chat").attributes
    assert attrs[sc.OTEL_META_RESPONSE_TOOL_CALLS] == ("get_pods",)
    assert attrs[sc.OTEL_META_RESPONSE_TOOL_CALL_IDS] == ("",)


def test_response_stream_uses_the_completed_response(
    instrument: object, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    instrument(capture_content=True)  # type: ignore[operator]
    body = responses_body("All good.", reasoning_summary="Looked at logs.")
    server.enqueue(SseReply(responses_stream_events(body), done=False))
    stream = _client(server).responses.create(model="o4-mini", input="status?", instructions="Be brief.",
                                              stream=True)
    assert isinstance(stream, openai.Stream)
    kinds = [event.type for event in stream]
    assert kinds[-1] == "response.completed"
    attrs = only_span(exporter, "chat").attributes
    assert attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert attrs[sc.OTEL_META_REASONING_CHARS] == len("Looked at logs.")
    inputs = json.loads(attrs[sc.GEN_AI_INPUT_MESSAGES])
    assert [m["role"] for m in inputs] == ["system", "user"]
    (output,) = json.loads(attrs[sc.GEN_AI_OUTPUT_MESSAGES])
    assert output["parts"] == [{"type": "reasoning", "content": "Looked at logs."},
                               {"type": "text", "content": "All good."}]


def test_async_response_error_is_recorded(
    instrumented: None, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    server.enqueue(JsonReply({"error": {"message": "bad", "type": "invalid_request_error"}}, status=404))

    async def main() -> None:
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key="t", max_retries=0) as client:
            try:
                await client.responses.create(model="o4-mini", input="x")
            except openai.NotFoundError:
                return
        raise AssertionError("the error did not propagate")

    asyncio.run(main())
    span = only_span(exporter, "chat")
    assert span.attributes[sc.ERROR_TYPE] == "NotFoundError"
    assert span.status.status_code is StatusCode.ERROR


def test_async_response_and_async_stream_are_traced(
    instrumented: None, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    body = responses_body("All good.", reasoning_summary="Looked at logs.")
    server.enqueue(JsonReply(body), SseReply(responses_stream_events(body), done=False))

    async def main() -> list[str]:
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key="t", max_retries=0) as client:
            response = await client.responses.create(model="o4-mini", input="status?")
            assert response.output_text == "All good."
            stream = await client.responses.create(model="o4-mini", input="status?", stream=True)
            assert isinstance(stream, openai.AsyncStream)
            return [event.type async for event in stream]

    kinds = asyncio.run(main())
    assert kinds[-1] == "response.completed"
    spans = [s for s in exporter.get_finished_spans() if s.name.startswith("chat")]
    assert len(spans) == 2
    for span in spans:
        assert span.attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
        assert span.attributes[sc.OTEL_META_REASONING_CHARS] == len("Looked at logs.")
        assert sc.GEN_AI_OUTPUT_MESSAGES not in span.attributes
    assert spans[1].attributes[sc.GEN_AI_REQUEST_STREAM] is True
