"""Capture modes, redaction and truncation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_meta
from otel_meta import semconv as sc
from otel_meta._config import CaptureMode, parse_capture_mode
from otel_meta._content import ContentPolicy, redact_secrets
from tests.otel_meta.conftest import only_span


@pytest.mark.parametrize(("value", "mode"), [
    ("true", CaptureMode.SPAN_ONLY), ("TRUE", CaptureMode.SPAN_ONLY), ("false", CaptureMode.NO_CONTENT),
    (None, CaptureMode.NO_CONTENT), ("NO_CONTENT", CaptureMode.NO_CONTENT), ("span_only", CaptureMode.SPAN_ONLY),
    ("EVENT_ONLY", CaptureMode.EVENT_ONLY), ("SPAN_AND_EVENT", CaptureMode.SPAN_AND_EVENT),
    (True, CaptureMode.SPAN_ONLY), (False, CaptureMode.NO_CONTENT),
])
def test_capture_mode_values(value: object, mode: CaptureMode) -> None:
    assert parse_capture_mode(value) is mode


def test_unknown_capture_value_keeps_capture_off(caplog: pytest.LogCaptureFixture) -> None:
    assert parse_capture_mode("maybe") is CaptureMode.NO_CONTENT
    assert "content capture stays off" in caplog.text


@pytest.mark.parametrize("secret", [
    "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX", "AKIAIOSFODNN7EXAMPLE", "ghp_abcdefghijklmnopqrstuvwxyz0123",
    "Bearer abcdefghij.klmnop", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "jane.doe+ops@example.co.uk",
])
def test_redaction_removes_secret_shapes(secret: str) -> None:
    redacted = redact_secrets(f"before {secret} after")
    assert secret not in redacted
    assert redacted.startswith("before [REDACTED]") and redacted.endswith("after")


def test_policy_runs_hook_after_builtins_then_truncates() -> None:
    policy = ContentPolicy(CaptureMode.SPAN_ONLY, lambda text: text.replace("hotel", "<app>"), max_length=40)
    assert policy.text("hotel ops@example.com") == "<app> [REDACTED]"
    long = policy.text("x" * 100)
    assert len(long) == 40 and long.endswith("[truncated 60 chars]")


def test_hook_returning_none_drops_the_text() -> None:
    policy = ContentPolicy(CaptureMode.SPAN_ONLY, lambda text: None)  # type: ignore[arg-type, return-value]
    assert policy.text("customer 42 said hi") == "[REDACTED]"
    assert policy.json({"note": "hi"}) == '{"[REDACTED]":"[REDACTED]"}'


def test_env_switches_capture_on(monkeypatch: pytest.MonkeyPatch, instrument: Any,
                                 exporter: InMemorySpanExporter) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    monkeypatch.setenv("OTEL_META_MAX_CONTENT_LENGTH", "32")
    instrument()

    @otel_meta.tool
    def echo(text: str) -> str:
        return text

    echo("y" * 200)
    attrs = only_span(exporter).attributes
    assert len(json.loads(attrs[sc.GEN_AI_TOOL_CALL_RESULT])) == 32


def test_user_hook_applies_to_tool_content(instrument: Any, exporter: InMemorySpanExporter) -> None:
    instrument(capture_content=True, redaction_hook=lambda text: text.replace("secret-host", "[HOST]"))

    @otel_meta.tool
    def ping(host: str) -> str:
        return f"pong from {host}"

    assert ping("secret-host") == "pong from secret-host"
    attrs = only_span(exporter).attributes
    assert "secret-host" not in attrs[sc.GEN_AI_TOOL_CALL_ARGUMENTS]
    assert json.loads(attrs[sc.GEN_AI_TOOL_CALL_RESULT]) == "pong from [HOST]"
