"""``instrument()`` and ``uninstrument()``: the one switch of otel-meta."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from otel_meta import _config, _openai, _patching, _runtime, _threads
from otel_meta._content import ContentPolicy, RedactionHook
from otel_meta._guard import internal_error

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

_log = logging.getLogger(__name__)


def instrument(
    tracer_provider: TracerProvider | None = None,
    capture_content: bool | str | None = None,
    *,
    redaction_hook: RedactionHook | None = None,
    max_content_length: int | None = None,
) -> None:
    """Turn LLM calls, tool calls and thinking steps into spans.

    ``tracer_provider``: the provider to use; by default the process's, and when the process has none,
    one configured from the ``OTEL_*`` environment (OTLP http/protobuf or gRPC, BatchSpanProcessor,
    plus ``OTEL_META_ANALYZER_ENDPOINT`` as a second destination). ``capture_content``: ``True``/``False``
    or a mode name (``SPAN_ONLY``, ``EVENT_ONLY``, ``SPAN_AND_EVENT``, ``NO_CONTENT``); by default
    ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``. ``redaction_hook(text) -> text`` runs on
    captured text after the built-in redaction; ``max_content_length`` bounds each captured value.

    Calling it again while instrumented does nothing; ``uninstrument()`` undoes it.
    """
    with _runtime.lock():
        if _runtime.STATE.instrumented:
            _log.debug("otel_meta is already instrumented")
            return
        try:
            mode = (_config.parse_capture_mode(capture_content) if capture_content is not None
                    else _config.capture_mode())
            policy = ContentPolicy(mode, redaction_hook,
                                   max_content_length if max_content_length is not None
                                   else _config.max_content_length())
            if tracer_provider is None:
                tracer_provider = _process_provider()
            _runtime.bind(tracer_provider, policy)
            _runtime.STATE.instrumented = True
            _threads.instrument()
            _openai.instrument()
        except Exception as exc:  # noqa: BLE001 - the guard decides
            internal_error("instrument", exc)


def _process_provider() -> TracerProvider | None:
    """The process's provider; one configured from the environment when there is none yet (the SDK
    and exporters are imported only then). ``None`` with ``OTEL_SDK_DISABLED=true``: spans stay no-ops."""
    from opentelemetry import trace

    current = trace.get_tracer_provider()
    if not isinstance(current, trace.ProxyTracerProvider):
        return current
    settings = _config.export_settings()
    if settings.sdk_disabled:
        _log.debug("OTEL_SDK_DISABLED=true: no tracer provider configured")
        return None
    from otel_meta import _provider

    trace.set_tracer_provider(_provider.build_provider(settings))
    return trace.get_tracer_provider()


def uninstrument() -> None:
    """Undo ``instrument()``: nothing stays patched; spans from decorators go to the global provider."""
    with _runtime.lock():
        if not _runtime.STATE.instrumented:
            return
        try:
            _runtime.STATE.instrumented = False
            _patching.unwrap_all()
            _runtime.bind(None, _runtime.env_policy())
        except Exception as exc:  # noqa: BLE001
            internal_error("uninstrument", exc)


def is_instrumented() -> bool:
    return _runtime.STATE.instrumented
