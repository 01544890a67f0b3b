"""Every environment variable ``otel_meta`` reads, read here and nowhere else.

The OTLP exporters and the SDK read their own variables (endpoint, headers, timeouts, compression,
``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER``); this module only reads what
otel-meta itself decides on: whether the SDK is disabled, which protocol and exporters to set up, the
analyzer as a second destination, content capture, the content length limit and strict mode.
"""

from __future__ import annotations

import enum
import logging
import os
from dataclasses import dataclass

_log = logging.getLogger(__name__)

OTEL_SDK_DISABLED = "OTEL_SDK_DISABLED"
OTEL_TRACES_EXPORTER = "OTEL_TRACES_EXPORTER"
OTEL_EXPORTER_OTLP_PROTOCOL = "OTEL_EXPORTER_OTLP_PROTOCOL"
OTEL_EXPORTER_OTLP_TRACES_PROTOCOL = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
OTEL_EXPORTER_OTLP_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
#: The variables the OTLP exporters read for headers: masked while the analyzer's exporter is built, so
#: credentials meant for the team's backend never reach the analyzer.
OTLP_HEADER_VARIABLES = ("OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS")
CAPTURE_MESSAGE_CONTENT = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
OTEL_META_ANALYZER_ENDPOINT = "OTEL_META_ANALYZER_ENDPOINT"
OTEL_META_ANALYZER_HEADERS = "OTEL_META_ANALYZER_HEADERS"
OTEL_META_STRICT = "OTEL_META_STRICT"
OTEL_META_MAX_CONTENT_LENGTH = "OTEL_META_MAX_CONTENT_LENGTH"

DEFAULT_MAX_CONTENT_LENGTH = 4096
_TRUE = frozenset({"1", "true", "yes", "on"})


class CaptureMode(enum.Enum):
    """Where captured message content goes (the util-genai modes)."""

    NO_CONTENT = "NO_CONTENT"
    SPAN_ONLY = "SPAN_ONLY"
    EVENT_ONLY = "EVENT_ONLY"
    SPAN_AND_EVENT = "SPAN_AND_EVENT"

    @property
    def on_span(self) -> bool:
        return self in (CaptureMode.SPAN_ONLY, CaptureMode.SPAN_AND_EVENT)

    @property
    def on_event(self) -> bool:
        return self in (CaptureMode.EVENT_ONLY, CaptureMode.SPAN_AND_EVENT)

    @property
    def enabled(self) -> bool:
        return self is not CaptureMode.NO_CONTENT


def parse_capture_mode(value: object) -> CaptureMode:
    """``True``/``"true"`` mean SPAN_ONLY, ``False``/``"false"``/``None`` NO_CONTENT, else a mode name.

    An unknown string is reported with a warning and means NO_CONTENT (capture stays off).
    """
    if value is None or value is False:
        return CaptureMode.NO_CONTENT
    if value is True:
        return CaptureMode.SPAN_ONLY
    if isinstance(value, CaptureMode):
        return value
    text = str(value).strip()
    if text.lower() in _TRUE:
        return CaptureMode.SPAN_ONLY
    if text.lower() in ("", "0", "false", "no", "off"):
        return CaptureMode.NO_CONTENT
    try:
        return CaptureMode[text.upper()]
    except KeyError:
        _log.warning(
            "%s=%r is not one of true, false, %s; content capture stays off",
            CAPTURE_MESSAGE_CONTENT, text, ", ".join(m.value for m in CaptureMode),
        )
        return CaptureMode.NO_CONTENT


def capture_mode() -> CaptureMode:
    return parse_capture_mode(os.environ.get(CAPTURE_MESSAGE_CONTENT))


def strict() -> bool:
    """Strict mode: internal errors are re-raised instead of logged (the test suite sets it)."""
    return os.environ.get(OTEL_META_STRICT, "").strip().lower() in _TRUE


def max_content_length() -> int:
    raw = os.environ.get(OTEL_META_MAX_CONTENT_LENGTH, "").strip()
    if not raw:
        return DEFAULT_MAX_CONTENT_LENGTH
    try:
        value = int(raw)
    except ValueError:
        _log.warning("%s=%r is not an integer; using %d", OTEL_META_MAX_CONTENT_LENGTH, raw,
                     DEFAULT_MAX_CONTENT_LENGTH)
        return DEFAULT_MAX_CONTENT_LENGTH
    return max(16, value)


@dataclass(frozen=True)
class ExportSettings:
    """What ``instrument()`` sets up when the process has no tracer provider yet."""

    sdk_disabled: bool
    protocol: str
    primary: bool
    analyzer_endpoint: str | None
    analyzer_headers: dict[str, str]


def export_settings() -> ExportSettings:
    """Read the export set-up from the environment.

    The team's exporter (``primary``) is set up unless ``OTEL_TRACES_EXPORTER=none``, or the only
    destination configured is the analyzer (``OTEL_META_ANALYZER_ENDPOINT`` set, no OTLP endpoint).
    """
    env = os.environ
    protocol = (env.get(OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) or env.get(OTEL_EXPORTER_OTLP_PROTOCOL)
                or "http/protobuf").strip().lower()
    if protocol not in ("grpc", "http/protobuf"):
        _log.warning("OTLP protocol %r is not supported by the Python exporters; using http/protobuf",
                     protocol)
        protocol = "http/protobuf"
    analyzer = env.get(OTEL_META_ANALYZER_ENDPOINT, "").strip() or None
    exporters = {e.strip().lower() for e in env.get(OTEL_TRACES_EXPORTER, "otlp").split(",")}
    has_endpoint = bool(env.get(OTEL_EXPORTER_OTLP_ENDPOINT) or env.get(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT))
    primary = "none" not in exporters and (has_endpoint or analyzer is None)
    return ExportSettings(
        sdk_disabled=env.get(OTEL_SDK_DISABLED, "").strip().lower() == "true",
        protocol=protocol,
        primary=primary,
        analyzer_endpoint=analyzer,
        analyzer_headers=_parse_headers(env.get(OTEL_META_ANALYZER_HEADERS, "")),
    )


def _parse_headers(raw: str) -> dict[str, str]:
    """``key=value,key2=value2`` with URL-encoded values, as ``OTEL_EXPORTER_OTLP_HEADERS``."""
    from urllib.parse import unquote

    headers: dict[str, str] = {}
    for item in raw.split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            headers[key.strip().lower()] = unquote(value.strip())
    return headers
