"""Raw responses: ``with_raw_response.create`` and ``with_streaming_response.create``.

Both call the patched ``create`` with a header that makes it return openai's response object instead of
the parsed body. ``with_raw_response`` without ``stream`` has read the body already: the span is ended at
once from ``parse()``, whose result openai caches, so the host's own ``parse()`` returns the same object
and costs nothing more. Otherwise (``with_streaming_response``, whose body is read only when the host
asks, or a raw response of a stream) the response is returned as a proxy of the same type
(``isinstance`` holds) whose ``parse()`` ends the span with the parsed body, or hands back the parsed
stream as a traced stream; a response closed or collected without being parsed ends the span with the
request attributes only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import wrapt

from otel_meta._content import ContentPolicy
from otel_meta._guard import internal_error
from otel_meta._openai._call import LlmCall
from otel_meta._openai._streams import Accumulator, TracedAsyncStream, TracedStream
from otel_meta._spans import LlmResult

_log = logging.getLogger(__name__)
ResultOf = Callable[[Any, ContentPolicy], LlmResult]


def no_result(policy: ContentPolicy) -> LlmResult:
    """The result of a call whose response was never read."""
    return LlmResult()


def finish_read_response(call: LlmCall, response: Any, result_of: ResultOf) -> None:
    """End the span of a raw response whose body is already read, from its (cached) ``parse()``."""
    try:
        parsed = response.parse()
    except Exception:  # noqa: BLE001 - the host's body; its own parse() will raise the same
        _log.debug("a raw openai response did not parse; its span has the request attributes only")
        call.finish(no_result)
        return
    call.finish(result_of, parsed)


class _TracedRawResponse(wrapt.ObjectProxy):  # type: ignore[misc]
    """What the sync and async raw-response proxies share."""

    def __init__(self, wrapped: Any, call: LlmCall, result_of: ResultOf, make_accumulator: Callable[[], Accumulator],
                 stream_types: tuple[type, type]) -> None:
        super().__init__(wrapped)
        self._self_call = call
        self._self_result_of = result_of
        self._self_make_accumulator = make_accumulator
        self._self_stream_types = stream_types
        self._self_parsed: Any = None
        self._self_traced: Any = None
        self._self_accumulator: Accumulator | None = None

    def _self_observe(self, parsed: Any) -> Any:
        try:
            return self._self_trace(parsed)
        except Exception as exc:  # noqa: BLE001 - the guard decides
            internal_error("openai.raw_parse", exc)
            return parsed

    def _self_trace(self, parsed: Any) -> Any:
        if parsed is self._self_parsed:
            return self._self_traced
        traced = parsed
        sync_stream, async_stream = self._self_stream_types
        if isinstance(parsed, (sync_stream, async_stream)):
            if not self._self_call.ended:
                accumulator = self._self_accumulator = self._self_make_accumulator()
                kind = TracedStream if isinstance(parsed, sync_stream) else TracedAsyncStream
                traced = kind(parsed, self._self_call, accumulator)
        else:
            self._self_call.finish(self._self_result_of, parsed)
        self._self_parsed, self._self_traced = parsed, traced
        return traced

    def _self_end(self) -> None:
        accumulator = self._self_accumulator
        self._self_call.finish(accumulator.result if accumulator is not None else no_result)

    def __del__(self) -> None:
        # A parsed stream outlives its response object (``...with_raw_response.create(...).parse()``)
        # and ends the span itself.
        call = getattr(self, "_self_call", None)
        if call is not None and not call.ended and getattr(self, "_self_accumulator", None) is None:
            self._self_end()


class TracedRawResponse(_TracedRawResponse):
    """A ``LegacyAPIResponse`` or ``APIResponse`` whose ``parse()`` is synchronous."""

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        return self._self_observe(self.__wrapped__.parse(*args, **kwargs))

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            self._self_end()


class TracedAsyncRawResponse(_TracedRawResponse):
    """An ``AsyncAPIResponse`` (``parse()`` and ``close()`` are coroutines)."""

    async def parse(self, *args: Any, **kwargs: Any) -> Any:
        return self._self_observe(await self.__wrapped__.parse(*args, **kwargs))

    async def close(self) -> None:
        try:
            await self.__wrapped__.close()
        finally:
            self._self_end()
