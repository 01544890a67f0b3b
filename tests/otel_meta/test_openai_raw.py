"""``with_raw_response``, ``with_streaming_response`` and structured-output ``parse`` calls: one span
each, with the same attributes as ``create``."""

from __future__ import annotations

import asyncio
import gc

import openai
import pydantic
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_meta import semconv as sc
from tests.otel_meta.conftest import only_span, track
from tests.support.openai_server import (
    JsonReply,
    OpenAIStandIn,
    SseReply,
    chat_completion,
    chat_stream_events,
    responses_body,
)

MESSAGES = [{"role": "user", "content": "Why is checkout slow?"}]
TOOL_CALLS = [("call_1", "get_pods", '{"ns": "shop"}')]


def _client(server: OpenAIStandIn) -> openai.OpenAI:
    return track(openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0))


def _async_client(server: OpenAIStandIn) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0)


def _assert_chat_result(exporter: InMemorySpanExporter) -> None:
    attrs = only_span(exporter, "chat").attributes
    assert attrs[sc.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 12
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 7
    assert attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)
    assert attrs[sc.OTEL_META_RESPONSE_TOOL_CALLS] == ("get_pods",)
    assert attrs[sc.OTEL_META_RESPONSE_TOOL_CALL_IDS] == ("call_1",)


def test_raw_response_span_has_model_usage_and_tool_calls(
    instrumented: None, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    server.enqueue(JsonReply(chat_completion("checking", tool_calls=TOOL_CALLS)))
    raw = _client(server).chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)
    _assert_chat_result(exporter)
    assert raw.headers["content-type"].startswith("application/json")
    completion = raw.parse()
    assert completion.choices[0].message.tool_calls[0].function.name == "get_pods"
    assert raw.parse() is completion


def test_async_raw_response_span_has_model_usage_and_tool_calls(
    instrumented: None, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    server.enqueue(JsonReply(chat_completion("checking", tool_calls=TOOL_CALLS)))

    async def run() -> str | None:
        async with _async_client(server) as client:
            raw = await client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)
            return raw.parse().choices[0].message.content

    assert asyncio.run(run()) == "checking"
    _assert_chat_result(exporter)


def test_raw_responses_api_span_has_model_usage_and_function_calls(
    instrumented: None, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    server.enqueue(JsonReply(responses_body("", function_calls=[("fc_1", "get_logs", "{}")], reasoning_tokens=3)))
    raw = _client(server).responses.with_raw_response.create(model="o4-mini", input="why?")
    assert raw.parse().output[0].name == "get_logs"
    attrs = only_span(exporter, "chat").attributes
    assert attrs[sc.GEN_AI_RESPONSE_MODEL] == "o4-mini-2025-04-16"
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 20
    assert attrs[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 3
    assert attrs[sc.OTEL_META_RESPONSE_TOOL_CALLS] == ("get_logs",)
    assert attrs[sc.OTEL_META_RESPONSE_TOOL_CALL_IDS] == ("fc_1",)


def test_streaming_response_span_ends_when_the_body_is_parsed(
    instrumented: None, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    server.enqueue(JsonReply(chat_completion("checking", tool_calls=TOOL_CALLS)))
    with _client(server).chat.completions.with_streaming_response.create(
            model="gpt-4o-mini", messages=MESSAGES) as response:
        assert isinstance(response, openai._response.APIResponse)
        assert exporter.get_finished_spans() == ()
        assert response.parse().choices[0].message.content == "checking"
        _assert_chat_result(exporter)
    assert len(exporter.get_finished_spans()) == 1


def test_streaming_response_of_a_stream_traces_the_parsed_stream(
    instrumented: None, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    server.enqueue(SseReply(chat_stream_events("checking", tool_calls=TOOL_CALLS)))
    with _client(server).chat.completions.with_streaming_response.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True,
            stream_options={"include_usage": True}) as response:
        stream = response.parse()
        assert isinstance(stream, openai.Stream)
        assert response.parse() is stream
        chunks = list(stream)
    assert chunks[-1].usage.prompt_tokens == 12
    _assert_chat_result(exporter)
    assert only_span(exporter, "chat").attributes[sc.GEN_AI_REQUEST_STREAM] is True


def test_raw_response_of_a_stream_traces_the_parsed_stream(
    instrumented: None, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    server.enqueue(SseReply(chat_stream_events("checking", tool_calls=TOOL_CALLS)))
    raw = _client(server).chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True})
    assert exporter.get_finished_spans() == ()
    assert len(list(raw.parse())) > 3
    _assert_chat_result(exporter)


def test_stream_parsed_from_a_dropped_raw_response_still_ends_with_its_chunks(
    instrumented: None, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    server.enqueue(SseReply(chat_stream_events("checking", tool_calls=TOOL_CALLS)))
    stream = _client(server).chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}).parse()
    gc.collect()
    assert exporter.get_finished_spans() == ()
    for _ in stream:
        pass
    _assert_chat_result(exporter)


def test_streaming_response_closed_unparsed_ends_its_span_once(
    instrumented: None, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    server.enqueue(JsonReply(chat_completion("checking")))
    with _client(server).chat.completions.with_streaming_response.create(
            model="gpt-4o-mini", messages=MESSAGES) as response:
        assert b"checking" in response.read()
    attrs = only_span(exporter, "chat").attributes
    assert attrs[sc.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    assert sc.GEN_AI_RESPONSE_MODEL not in attrs
    del response
    gc.collect()
    assert len(exporter.get_finished_spans()) == 1


def test_async_streaming_response_span_ends_when_the_body_is_parsed(
    instrumented: None, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    server.enqueue(JsonReply(chat_completion("checking", tool_calls=TOOL_CALLS)),
                   SseReply(chat_stream_events("checking", tool_calls=TOOL_CALLS)))

    async def run() -> int:
        async with _async_client(server) as client:
            create = client.chat.completions.with_streaming_response.create
            async with create(model="gpt-4o-mini", messages=MESSAGES) as response:
                assert (await response.parse()).choices[0].message.content == "checking"
            async with create(model="gpt-4o-mini", messages=MESSAGES, stream=True,
                              stream_options={"include_usage": True}) as response:
                stream = await response.parse()
                assert isinstance(stream, openai.AsyncStream)
                return len([chunk async for chunk in stream])

    assert asyncio.run(run()) > 3
    spans = exporter.get_finished_spans()
    assert len(spans) == 2
    for span in spans:
        assert span.attributes[sc.OTEL_META_RESPONSE_TOOL_CALLS] == ("get_pods",)
        assert span.attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] == 12


class Diagnosis(pydantic.BaseModel):
    cause: str


def test_structured_output_parse_calls_are_traced(
    instrumented: None, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    server.enqueue(JsonReply(chat_completion('{"cause": "db"}')),
                   JsonReply(responses_body('{"cause": "db"}')))
    client = _client(server)
    parsed = client.chat.completions.parse(model="gpt-4o-mini", messages=MESSAGES, response_format=Diagnosis)
    assert parsed.choices[0].message.parsed == Diagnosis(cause="db")
    response = client.responses.parse(model="o4-mini", input="why?", text_format=Diagnosis)
    assert response.output_parsed == Diagnosis(cause="db")
    chat, responses = exporter.get_finished_spans()
    assert chat.attributes[sc.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"
    assert chat.attributes[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 7
    assert responses.attributes[sc.GEN_AI_RESPONSE_MODEL] == "o4-mini-2025-04-16"
    assert responses.attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
