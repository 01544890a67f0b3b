"""One traced LLM call: its span, the captured input, and ending it exactly once.

The span is otel-meta's own, or (``owned=False``) the span another openai instrumentation opened for
this same call: then otel-meta adds its response attributes to it (never content: that span follows its
own instrumentation's capture settings) and leaves ending it, and recording an error, to its owner.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentelemetry.trace import Span

from otel_meta import _spans
from otel_meta._config import CaptureMode
from otel_meta._content import ContentPolicy
from otel_meta._guard import internal_error

_NO_CONTENT = CaptureMode.NO_CONTENT


class LlmCall:
    """An LLM call in flight. ``finish``/``fail`` end the span; whichever comes first wins."""

    __slots__ = ("_open", "input_messages", "owned", "policy", "span")

    def __init__(self, span: Span, policy: ContentPolicy, input_messages: str | None, owned: bool = True) -> None:
        self.span = span
        self.policy = policy
        self.input_messages = input_messages
        self.owned = owned
        self._open = [True]  # popped by whoever ends the span: list.pop is atomic, so no lock is needed

    def _claim(self) -> bool:
        try:
            return self._open.pop()
        except IndexError:
            return False

    @property
    def ended(self) -> bool:
        return not self._open

    def finish(self, make_result: Callable[..., _spans.LlmResult], *args: Any) -> None:
        """End the span with the result ``make_result(*args, policy)`` extracts (only when it records)."""
        if not self._claim():
            return
        span = self.span
        if not self.owned:
            safe_call("openai.finish_shared", _add_result, span, make_result, args, self.policy)
            return
        try:
            if span.is_recording():
                policy = self.policy
                result = make_result(*args, policy)
                mode = policy.mode
                if mode is _NO_CONTENT:
                    _spans.set_llm_result(span, result, on_span=False)
                else:
                    _spans.set_llm_result(span, result, on_span=mode.on_span)
                    if mode.on_event:
                        _spans.add_inference_details(span, self.input_messages, result.output_messages)
        except Exception as exc:  # noqa: BLE001 - the guard decides
            internal_error("openai.finish", exc)
        finally:
            span.end()

    def fail(self, exc: BaseException, make_result: Callable[[ContentPolicy], _spans.LlmResult] | None = None) -> None:
        """End the span as failed with ``error.type`` from ``exc`` (and what was received so far)."""
        if not self._claim() or not self.owned:
            return
        try:
            if self.span.is_recording():
                if make_result is not None:
                    _spans.set_llm_result(self.span, make_result(self.policy), on_span=self.policy.mode.on_span)
                _spans.set_error(self.span, _spans.error_type_of(exc))
        except Exception as err:  # noqa: BLE001
            internal_error("openai.fail", err)
        finally:
            self.span.end()


def _add_result(span: Span, make_result: Callable[..., _spans.LlmResult], args: tuple[Any, ...],
                policy: ContentPolicy) -> None:
    if span.is_recording():
        _spans.set_llm_result(span, make_result(*args, policy), on_span=False)


def safe_call(site: str, fn: Callable[..., Any], *args: Any) -> None:
    """Run one of otel-meta's own steps under the guard."""
    try:
        fn(*args)
    except Exception as exc:  # noqa: BLE001
        internal_error(site, exc)
