"""Tracing of the ``openai`` client (1.x API surface, openai >= 1.40).

``chat.completions.create`` / ``.parse`` and ``responses.create`` / ``.parse``, sync and async, streaming
and not, are patched
when ``openai`` is imported (a post-import hook; otel-meta never imports ``openai`` itself). Each call
is a ``chat {model}`` CLIENT span; a streamed response is returned as a proxy of the same stream type
whose span ends when the stream ends; ``with_raw_response`` / ``with_streaming_response`` calls go through
the same ``create`` and their span is ended from the parsed body (``_raw``). With another openai
instrumentation active, its span is the call's span and otel-meta opens none (``_coexist``).
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Callable
from typing import Any

import wrapt
from opentelemetry import context as otel_context
from opentelemetry import trace

from otel_meta import _patching, _runtime, _spans
from otel_meta import semconv as sc
from otel_meta._config import CaptureMode
from otel_meta._content import ContentPolicy
from otel_meta._guard import internal_error
from otel_meta._openai._call import LlmCall
from otel_meta._openai._chat import ChatAccumulator, chat_result
from otel_meta._openai._coexist import host_span, instrumented_below, request_instrumented
from otel_meta._openai._messages import chat_input_messages, request_attributes, responses_input_messages
from otel_meta._openai._raw import TracedAsyncRawResponse, TracedRawResponse, finish_read_response, no_result
from otel_meta._openai._responses import ResponsesAccumulator, response_result
from otel_meta._openai._streams import TracedAsyncStream, TracedStream

_log = logging.getLogger(__name__)
_hook_registered = False
_stream_types: tuple[type, type] | None = None
#: openai's raw response types: (LegacyAPIResponse, APIResponse, AsyncAPIResponse), when it has them.
_raw_types: tuple[type, type, type] | None = None
#: Streams and raw responses: the results that are not the parsed body.
_special_types: tuple[type, ...] = ()
#: The policy of a call whose span belongs to another instrumentation: otel-meta adds no content to it.
_SHARED_POLICY = ContentPolicy()

ResultOf = Callable[[Any, ContentPolicy], _spans.LlmResult]

_CHAT_MODULES = ("openai.resources.chat.completions.completions", "openai.resources.chat.completions")
_RESPONSES_MODULES = ("openai.resources.responses.responses", "openai.resources.responses")


_STATE = _runtime.STATE
_attach = otel_context.attach
_detach = otel_context.detach
_span_in_context = trace.set_span_in_context


def _begin(instance: Any, kwargs: dict[str, Any], messages: Callable[[dict[str, Any]], Any]) -> LlmCall | None:
    """Start the call's span with what is known before the call (captured input only with capture on);
    ``None`` when the call is to pass through untraced."""
    try:
        if request_instrumented(instance):
            return None
        host = host_span()
        if host is not None:
            return LlmCall(host, _SHARED_POLICY, None, owned=False)
        policy = _STATE.policy
        attributes = request_attributes(instance, kwargs)
        input_json = None
        mode = policy.mode
        if mode is not CaptureMode.NO_CONTENT:
            try:
                input_json = policy.json(messages(kwargs))
            except Exception as exc:  # noqa: BLE001
                internal_error("openai.input_messages", exc)
            if input_json is not None and mode.on_span:
                attributes[sc.GEN_AI_INPUT_MESSAGES] = input_json
        model = kwargs.get("model")
        span = _spans.start_llm_span(_runtime.tracer(), model if isinstance(model, str) else "unknown",
                                     provider=sc.PROVIDER_OPENAI, attributes=attributes)
        return LlmCall(span, policy, input_json)
    except Exception as exc:  # noqa: BLE001 - the guard decides
        internal_error("openai.begin", exc)
        return None


def _chat_messages(kwargs: dict[str, Any]) -> Any:
    return chat_input_messages(kwargs.get("messages"))


def _responses_messages(kwargs: dict[str, Any]) -> Any:
    return responses_input_messages(kwargs.get("input"), kwargs.get("instructions"))


def _settle(call: LlmCall, result: Any, result_of: ResultOf, accumulator: type, streaming: bool) -> Any:
    """End the span for a whole response, or hand back a traced stream or raw response that ends it later."""
    if not isinstance(result, _special_types):
        call.finish(result_of, result)
        return result
    try:
        stream_types = _stream_types
        assert stream_types is not None
        capture = call.policy.mode is not CaptureMode.NO_CONTENT
        if isinstance(result, stream_types[0]):
            return TracedStream(result, call, accumulator(capture))
        if isinstance(result, stream_types[1]):
            return TracedAsyncStream(result, call, accumulator(capture))
        raw_types = _raw_types
        assert raw_types is not None
        if isinstance(result, raw_types[0]) and not streaming:
            finish_read_response(call, result, result_of)
            return result
        proxy = TracedAsyncRawResponse if isinstance(result, raw_types[2]) else TracedRawResponse
        return proxy(result, call, result_of, lambda: accumulator(capture), stream_types)
    except Exception as exc:  # noqa: BLE001
        internal_error("openai.stream", exc)
        call.finish(no_result)
        return result


def _sync_traced(messages: Callable[[dict[str, Any]], Any], result_of: ResultOf,
                 accumulator: type, yields: bool) -> _patching.Wrapper:
    def traced(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not _STATE.instrumented or yields:
            return wrapped(*args, **kwargs)
        call = _begin(instance, kwargs, messages)
        if call is None:
            return wrapped(*args, **kwargs)
        token = _attach(_span_in_context(call.span))
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            _detach(token)
            call.fail(exc)
            raise
        _detach(token)
        return _settle(call, result, result_of, accumulator, kwargs.get("stream") is True)

    return traced


def _async_traced(messages: Callable[[dict[str, Any]], Any], result_of: ResultOf,
                  accumulator: type, yields: bool) -> _patching.Wrapper:
    async def traced(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...],
                     kwargs: dict[str, Any]) -> Any:
        if not _STATE.instrumented or yields:
            return await wrapped(*args, **kwargs)
        call = _begin(instance, kwargs, messages)
        if call is None:
            return await wrapped(*args, **kwargs)
        token = _attach(_span_in_context(call.span))
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException as exc:
            _detach(token)
            call.fail(exc)
            raise
        _detach(token)
        return _settle(call, result, result_of, accumulator, kwargs.get("stream") is True)

    return traced


def completions_create(yields: bool = False) -> _patching.Wrapper:
    """The wrapper of ``Completions.create`` and ``.parse`` (``client.chat.completions.create``). ``yields``:
    the method it wraps is another openai instrumentation's wrapper, whose span is the call's span."""
    return _sync_traced(_chat_messages, chat_result, ChatAccumulator, yields)


def async_completions_create(yields: bool = False) -> _patching.Wrapper:
    """The wrapper of ``AsyncCompletions.create``."""
    return _async_traced(_chat_messages, chat_result, ChatAccumulator, yields)


def responses_create(yields: bool = False) -> _patching.Wrapper:
    """The wrapper of ``Responses.create`` (``client.responses.create``)."""
    return _sync_traced(_responses_messages, response_result, ResponsesAccumulator, yields)


def async_responses_create(yields: bool = False) -> _patching.Wrapper:
    """The wrapper of ``AsyncResponses.create``."""
    return _async_traced(_responses_messages, response_result, ResponsesAccumulator, yields)


#: (module candidates, class, wrapper factory): the first importable module that has the class wins.
#: ``parse`` (structured outputs) posts the request itself instead of calling ``create``, so it is traced
#: on its own; ``stream`` helpers call ``create``.
_TARGETS: tuple[tuple[tuple[str, ...], str, Callable[[bool], _patching.Wrapper]], ...] = (
    (_CHAT_MODULES, "Completions", completions_create),
    (_CHAT_MODULES, "AsyncCompletions", async_completions_create),
    (_RESPONSES_MODULES, "Responses", responses_create),
    (_RESPONSES_MODULES, "AsyncResponses", async_responses_create),
)
_METHODS = ("create", "parse")


def _find_class(modules: tuple[str, ...], name: str) -> type | None:
    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        owner = getattr(module, name, None)
        if isinstance(owner, type) and "create" in owner.__dict__:
            return owner
    return None


def _find_raw_types() -> tuple[type, type, type] | None:
    try:
        legacy = importlib.import_module("openai._legacy_response").LegacyAPIResponse
        response = importlib.import_module("openai._response")
        return legacy, response.APIResponse, response.AsyncAPIResponse
    except (ImportError, AttributeError):
        _log.debug("openai has no raw response types here; raw responses get request attributes only")
        return None


def _patch(openai_module: Any) -> None:
    """Patch the loaded ``openai`` package (the post-import hook; also run at instrument time)."""
    global _stream_types, _raw_types, _special_types
    if not _runtime.STATE.instrumented:
        return
    try:
        _stream_types = (openai_module.Stream, openai_module.AsyncStream)
        _raw_types = _find_raw_types()
        _special_types = _stream_types + (_raw_types or ())
        for modules, class_name, factory in _TARGETS:
            owner = _find_class(modules, class_name)
            if owner is None:
                _log.debug("openai has no %s.create here; not traced", class_name)
                continue
            for method in _METHODS:
                if method in owner.__dict__:
                    _patching.wrap(owner, method, factory(instrumented_below(owner.__dict__[method])))
    except Exception as exc:  # noqa: BLE001
        internal_error("openai.patch", exc)


def instrument() -> None:
    """Patch ``openai`` now if it is loaded, else as soon as it is imported."""
    global _hook_registered
    if not _hook_registered:
        _hook_registered = True
        wrapt.register_post_import_hook(_patch, "openai")
    elif "openai" in sys.modules:
        _patch(sys.modules["openai"])
