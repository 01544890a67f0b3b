"""Spans leave the process over real OTLP/HTTP and OTLP/gRPC, configured from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.otel_meta.otlp_receiver import GrpcReceiver, HttpReceiver

REPO = Path(__file__).resolve().parents[2]
AGENT = textwrap.dedent("""
    import otel_meta.auto
    import otel_meta

    @otel_meta.tool
    def get_pods(namespace):
        return ["web-1"]

    @otel_meta.agent("diagnosis")
    def diagnose():
        get_pods("shop")
        otel_meta.set_outcome(True)

    diagnose()
""")


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()
    yield receiver
    receiver.stop()


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(OTEL_META_STRICT="1", OTEL_SERVICE_NAME="export-test", OTEL_BSP_SCHEDULE_DELAY="50", **extra)
    return env


def _run(script: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-c", script], env=env, cwd=REPO, check=True, timeout=60)


@pytest.mark.slow
def test_auto_exports_over_otlp_http_to_backend_and_analyzer(http_receiver: HttpReceiver) -> None:
    analyzer = HttpReceiver()
    try:
        _run(AGENT, _env(OTEL_EXPORTER_OTLP_ENDPOINT=http_receiver.endpoint,
                         OTEL_EXPORTER_OTLP_HEADERS="authorization=Bearer%20team-secret",
                         OTEL_META_ANALYZER_ENDPOINT=analyzer.endpoint,
                         OTEL_META_ANALYZER_HEADERS="authorization=Bearer%20analyzer-token"))
        expected = ["execute_tool get_pods", "invoke_agent diagnosis"]
        assert sorted(http_receiver.received.wait_for(2)) == expected
        assert sorted(analyzer.received.wait_for(2)) == expected
        assert http_receiver.received.headers[0]["authorization"] == "Bearer team-secret"
        assert analyzer.received.headers[0]["authorization"] == "Bearer analyzer-token"
    finally:
        analyzer.stop()


@pytest.mark.slow
def test_auto_exports_over_otlp_grpc() -> None:
    receiver = GrpcReceiver()
    try:
        _run(AGENT, _env(OTEL_EXPORTER_OTLP_PROTOCOL="grpc", OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint))
        assert sorted(receiver.received.wait_for(2)) == ["execute_tool get_pods", "invoke_agent diagnosis"]
    finally:
        receiver.stop()


@pytest.mark.slow
def test_analyzer_only_does_not_also_export_to_the_default_endpoint(http_receiver: HttpReceiver) -> None:
    script = AGENT + textwrap.dedent("""
        from opentelemetry import trace
        processors = trace.get_tracer_provider()._active_span_processor._span_processors
        assert len(processors) == 1, processors
    """)
    _run(script, _env(OTEL_META_ANALYZER_ENDPOINT=http_receiver.endpoint + "/v1/traces"))
    assert sorted(http_receiver.received.wait_for(2)) == ["execute_tool get_pods", "invoke_agent diagnosis"]
