"""One traced LLM call: its span, the captured input, and ending it exactly once."""

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

    __slots__ = ("_open", "input_messages", "policy", "span")

    def __init__(self, span: Span, policy: ContentPolicy, input_messages: str | None) -> None:
        self.span = span
        self.policy = policy
        self.input_messages = input_messages
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
        if not self._claim():
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


def safe_call(site: str, fn: Callable[..., Any], *args: Any) -> None:
    """Run one of otel-meta's own steps under the guard."""
    try:
        fn(*args)
    except Exception as exc:  # noqa: BLE001
        internal_error(site, exc)
