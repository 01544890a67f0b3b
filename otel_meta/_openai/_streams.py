"""Streams that stay streams: proxies of ``openai.Stream`` / ``openai.AsyncStream`` that observe each
chunk and end the call's span exactly once, when the stream is exhausted, closed, broken off by an
exception, or garbage-collected. ``isinstance(proxy, openai.Stream)`` still holds (wrapt proxy)."""

from __future__ import annotations

from typing import Any, Protocol

import wrapt

from otel_meta._content import ContentPolicy
from otel_meta._openai._call import LlmCall, safe_call
from otel_meta._spans import LlmResult


class Accumulator(Protocol):
    def add(self, chunk: Any) -> None: ...
    def result(self, policy: ContentPolicy) -> LlmResult: ...


class _TracedStreamProxy(wrapt.ObjectProxy):  # type: ignore[misc]
    """What the sync and async proxies share: the call, its accumulator, and ending the span."""

    def __init__(self, wrapped: Any, call: LlmCall, accumulator: Accumulator) -> None:
        super().__init__(wrapped)
        self._self_call = call
        self._self_accumulator = accumulator

    def _self_finish(self) -> None:
        self._self_call.finish(self._self_accumulator.result)

    def __del__(self) -> None:
        call = getattr(self, "_self_call", None)
        if call is not None and not call.ended:
            self._self_finish()


class TracedStream(_TracedStreamProxy):
    """A synchronous stream whose chunks feed ``accumulator``."""

    def __iter__(self) -> TracedStream:
        return self

    def __next__(self) -> Any:
        try:
            chunk = self.__wrapped__.__next__()
        except StopIteration:
            self._self_finish()
            raise
        except BaseException as exc:
            self._self_call.fail(exc, self._self_accumulator.result)
            raise
        safe_call("openai.stream_chunk", self._self_accumulator.add, chunk)
        return chunk

    def __enter__(self) -> TracedStream:
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            self._self_finish()

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            self._self_finish()


class TracedAsyncStream(_TracedStreamProxy):
    """An asynchronous stream whose chunks feed ``accumulator``."""

    def __aiter__(self) -> TracedAsyncStream:
        return self

    async def __anext__(self) -> Any:
        try:
            chunk = await self.__wrapped__.__anext__()
        except StopAsyncIteration:
            self._self_finish()
            raise
        except BaseException as exc:
            self._self_call.fail(exc, self._self_accumulator.result)
            raise
        safe_call("openai.stream_chunk", self._self_accumulator.add, chunk)
        return chunk

    async def __aenter__(self) -> TracedAsyncStream:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            self._self_finish()

    async def close(self) -> None:
        try:
            await self.__wrapped__.close()
        finally:
            self._self_finish()

    async def aclose(self) -> None:
        await self.close()
