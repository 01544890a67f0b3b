"""chat.completions.create through a real openai client against the loopback stand-in."""

from __future__ import annotations

import asyncio
import gc
import json
import socket

import openai
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from otel_meta import semconv as sc
from tests.otel_meta.conftest import only_span, track
from tests.support.openai_server import (
    JsonReply,
    OpenAIStandIn,
    SseReply,
    chat_completion,
    chat_stream_events,
)

MESSAGES = [{"role": "user", "content": "Why is checkout slow?"}]


def _client(server: OpenAIStandIn) -> openai.OpenAI:
    return track(openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0))


def _async_client(server: OpenAIStandIn) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0)


def test_chat_records_model_usage_tool_calls_and_reasoning(
    instrumented: None, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    body = chat_completion("checking", tool_calls=[("call_1", "get_pods", '{"ns": "shop"}'),
                                                   ("call_2", "get_logs", "{}")],
                           reasoning_content="Pods first.", reasoning_tokens=5)
    server.enqueue(JsonReply(body))
    response = _client(server).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES,
                                                       temperature=0.2, max_tokens=64)
    assert response.choices[0].message.content == "checking"
    span = only_span(exporter, "chat")
    assert span.name == "chat gpt-4o-mini"
    assert span.kind is SpanKind.CLIENT
    attrs = span.attributes
    assert attrs[sc.GEN_AI_OPERATION_NAME] == sc.OP_CHAT
    assert attrs[sc.GEN_AI_PROVIDER_NAME] == "openai"
    assert attrs[sc.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    assert attrs[sc.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"
    assert attrs[sc.GEN_AI_REQUEST_TEMPERATURE] == 0.2
    assert attrs[sc.GEN_AI_REQUEST_MAX_TOKENS] == 64
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 12
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 7
    assert attrs[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 5
    assert attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)
    assert attrs[sc.OTEL_META_RESPONSE_TOOL_CALLS] == ("get_pods", "get_logs")
    assert attrs[sc.OTEL_META_RESPONSE_TOOL_CALL_IDS] == ("call_1", "call_2")
    assert attrs[sc.OTEL_META_REASONING_CHARS] == len("Pods first.")
    assert attrs[sc.SERVER_ADDRESS] == "127.0.0.1" and attrs[sc.SERVER_PORT] == server.port
    assert sc.GEN_AI_OUTPUT_MESSAGES not in attrs and sc.GEN_AI_INPUT_MESSAGES not in attrs
    assert span.status.status_code is StatusCode.UNSET


def test_chat_reasoning_field_counts_and_no_tool_calls_is_empty(
    instrumented: None, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    server.enqueue(JsonReply(chat_completion("done", reasoning="abc")))
    _client(server).chat.completions.create(model="m", messages=MESSAGES)
    attrs = only_span(exporter, "chat").attributes
    assert attrs[sc.OTEL_META_REASONING_CHARS] == 3
    assert attrs[sc.OTEL_META_RESPONSE_TOOL_CALLS] == ()
    assert attrs[sc.OTEL_META_RESPONSE_TOOL_CALL_IDS] == ()


def test_missing_tool_call_id_or_name_is_empty_never_none(
    instrumented: None, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    body = chat_completion(None, tool_calls=[("call_1", "get_pods", "{}"), ("call_2", "get_logs", "{}")])
    calls = body["choices"][0]["message"]["tool_calls"]
    del calls[0]["id"]
    del calls[1]["function"]["name"]
    events = chat_stream_events("", tool_calls=[("call_3", "get_pods", "{}")])
    for _, chunk in events:
        for choice in chunk["choices"]:
            for call in choice["delta"].get("tool_calls", ()):
                call.pop("id", None)
    server.enqueue(JsonReply(body), SseReply(events))
    client = _client(server)
    client.chat.completions.create(model="m", messages=MESSAGES)
    for _ in client.chat.completions.create(model="m", messages=MESSAGES, stream=True):
        pass
    whole, streamed = exporter.get_finished_spans()
    assert whole.attributes[sc.OTEL_META_RESPONSE_TOOL_CALLS] == ("get_pods", "")
    assert whole.attributes[sc.OTEL_META_RESPONSE_TOOL_CALL_IDS] == ("", "call_2")
    assert streamed.attributes[sc.OTEL_META_RESPONSE_TOOL_CALLS] == ("get_pods",)
    assert streamed.attributes[sc.OTEL_META_RESPONSE_TOOL_CALL_IDS] == ("",)


@pytest.mark.parametrize(("status", "error"), [(400, openai.BadRequestError),
                                               (429, openai.RateLimitError),
                                               (500, openai.InternalServerError)])
def test_chat_api_error_sets_error_type_and_reraises_unmodified(
    instrumented: None, server: OpenAIStandIn, exporter: InMemorySpanExporter, status: int,
    error: type[Exception],
) -> None:
    server.enqueue(JsonReply({"error": {"message": "nope", "type": "x"}}, status=status))
    with pytest.raises(error) as raised:
        _client(server).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert raised.value.status_code == status  # type: ignore[attr-defined]
    assert raised.value.__context__ is None or not type(raised.value.__context__).__module__.startswith("otel_meta")
    span = only_span(exporter, "chat")
    assert span.attributes[sc.ERROR_TYPE] == error.__qualname__
    assert span.status.status_code is StatusCode.ERROR


def test_chat_closed_port_is_a_connection_error(instrumented: None, exporter: InMemorySpanExporter) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = track(openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="t", max_retries=0))
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    span = only_span(exporter, "chat")
    assert span.attributes[sc.ERROR_TYPE] == "APIConnectionError"
    assert span.status.status_code is StatusCode.ERROR


def test_async_chat_is_traced(instrumented: None, server: OpenAIStandIn, exporter: InMemorySpanExporter) -> None:
    server.enqueue(JsonReply(chat_completion("hi", tool_calls=[("c9", "restart", "{}")])))

    async def main() -> str | None:
        async with _async_client(server) as client:
            response = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        return response.choices[0].message.content

    assert asyncio.run(main()) == "hi"
    span = only_span(exporter, "chat")
    assert span.attributes[sc.OTEL_META_RESPONSE_TOOL_CALL_IDS] == ("c9",)


def test_stream_stays_a_stream_and_ends_once_when_exhausted(
    instrumented: None, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    server.enqueue(SseReply(chat_stream_events("hello there", tool_calls=[("c1", "get_pods", "{}")],
                                               reasoning_content="abcdef", reasoning_tokens=2)))
    stream = _client(server).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    assert isinstance(stream, openai.Stream)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "hello there"
    stream.close()
    span = only_span(exporter, "chat")
    attrs = span.attributes
    assert attrs[sc.GEN_AI_REQUEST_STREAM] is True
    assert attrs[sc.OTEL_META_RESPONSE_TOOL_CALLS] == ("get_pods",)
    assert attrs[sc.OTEL_META_RESPONSE_TOOL_CALL_IDS] == ("c1",)
    assert attrs[sc.OTEL_META_REASONING_CHARS] == 6
    assert attrs[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 2
    assert attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)


def test_stream_cut_midway_marks_error(
    instrumented: None, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    server.enqueue(SseReply(chat_stream_events("a long answer"), cut_after=2))
    stream = _client(server).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    received = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in stream:
            received.append(chunk)
    assert len(received) == 2
    span = only_span(exporter, "chat")
    assert span.attributes[sc.ERROR_TYPE] == "APIConnectionError"
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[sc.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"


def test_stream_broken_off_with_context_manager_ends_at_exit(
    instrumented: None, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    server.enqueue(SseReply(chat_stream_events("one two three four")))
    with _client(server).chat.completions.create(model="m", messages=MESSAGES, stream=True) as stream:
        for _ in stream:
            break
        assert exporter.get_finished_spans() == ()
    span = only_span(exporter, "chat")
    assert span.status.status_code is StatusCode.UNSET
    stream.close()
    assert len(exporter.get_finished_spans()) == 1


def test_stream_dropped_is_ended_by_garbage_collection(
    instrumented: None, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    server.enqueue(SseReply(chat_stream_events("one two three four")))
    stream = _client(server).chat.completions.create(model="m", messages=MESSAGES, stream=True)
    next(stream)
    assert exporter.get_finished_spans() == ()
    inner = stream.__wrapped__  # the caller's connection is closed below, the proxy is dropped
    del stream
    gc.collect()
    assert len(exporter.get_finished_spans()) == 1
    inner.close()
    assert len(exporter.get_finished_spans()) == 1


def test_async_stream_and_break_off(instrumented: None, server: OpenAIStandIn,
                                    exporter: InMemorySpanExporter) -> None:
    server.enqueue(SseReply(chat_stream_events("hello", tool_calls=[("c1", "get_pods", "{}")])),
                   SseReply(chat_stream_events("one two three four")))

    async def main() -> str:
        async with _async_client(server) as client:
            stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
            assert isinstance(stream, openai.AsyncStream)
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
            second = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
            async with second:
                async for _ in second:
                    break
            return text

    assert asyncio.run(main()) == "hello"
    first, second = exporter.get_finished_spans()
    assert first.attributes[sc.OTEL_META_RESPONSE_TOOL_CALLS] == ("get_pods",)
    assert second.status.status_code is StatusCode.UNSET


def test_capture_on_records_messages_reasoning_part_and_redacts(
    instrument: object, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    instrument(capture_content=True)  # type: ignore[operator]
    server.enqueue(JsonReply(chat_completion("mail ops@example.com", reasoning_content="key sk-abcdefghijklmnopqrstuv",
                                             tool_calls=[("c1", "get_pods", '{"ns": "shop"}')])))
    _client(server).chat.completions.create(
        model="m", messages=[{"role": "system", "content": "be brief"},
                             {"role": "user", "content": "token Bearer abc.def.ghijkl"}])
    attrs = only_span(exporter, "chat").attributes
    inputs = json.loads(attrs[sc.GEN_AI_INPUT_MESSAGES])
    assert inputs[0] == {"role": "system", "parts": [{"type": "text", "content": "be brief"}]}
    assert "abc.def" not in attrs[sc.GEN_AI_INPUT_MESSAGES] and "[REDACTED]" in attrs[sc.GEN_AI_INPUT_MESSAGES]
    (output,) = json.loads(attrs[sc.GEN_AI_OUTPUT_MESSAGES])
    assert output["role"] == "assistant" and output["finish_reason"] == "tool_calls"
    types = [p["type"] for p in output["parts"]]
    assert types == ["reasoning", "text", "tool_call"]
    assert output["parts"][0]["content"] == "key [REDACTED]"
    assert output["parts"][1]["content"] == "mail [REDACTED]"
    assert output["parts"][2] == {"type": "tool_call", "id": "c1", "name": "get_pods", "arguments": '{"ns": "shop"}'}


def test_capture_on_stream_joins_reasoning_and_arguments(
    instrument: object, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    instrument(capture_content="SPAN_ONLY")  # type: ignore[operator]
    server.enqueue(SseReply(chat_stream_events("hi", tool_calls=[("c1", "get_pods", '{"a": 1}')],
                                               reasoning_content="think hard")))
    for _ in _client(server).chat.completions.create(model="m", messages=MESSAGES, stream=True):
        pass
    (output,) = json.loads(only_span(exporter, "chat").attributes[sc.GEN_AI_OUTPUT_MESSAGES])
    assert output["parts"][0] == {"type": "reasoning", "content": "think hard"}
    assert output["parts"][1] == {"type": "text", "content": "hi"}
    assert output["parts"][2]["arguments"] == '{"a": 1}'


def test_event_only_mode_puts_content_on_an_event(
    instrument: object, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    instrument(capture_content="EVENT_ONLY")  # type: ignore[operator]
    server.enqueue(JsonReply(chat_completion("hi")))
    _client(server).chat.completions.create(model="m", messages=MESSAGES)
    span = only_span(exporter, "chat")
    assert sc.GEN_AI_OUTPUT_MESSAGES not in span.attributes
    assert sc.GEN_AI_INPUT_MESSAGES not in span.attributes
    (event,) = span.events
    assert event.name == sc.EVENT_INFERENCE_DETAILS
    assert json.loads(event.attributes[sc.GEN_AI_INPUT_MESSAGES])[0]["parts"][0]["content"] == MESSAGES[0]["content"]
    assert "hi" in event.attributes[sc.GEN_AI_OUTPUT_MESSAGES]
