"""instrument()/uninstrument(), the entry point, import hygiene and OTEL_SDK_DISABLED."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import openai
import pytest
from openai.resources.chat.completions.completions import AsyncCompletions, Completions
from openai.resources.responses.responses import AsyncResponses, Responses
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_meta
from otel_meta import semconv as sc
from otel_meta._instrumentor import OtelMetaInstrumentor
from otel_meta._patching import is_patched
from tests.otel_meta.conftest import track
from tests.otel_meta.otlp_receiver import HttpReceiver
from tests.support.openai_server import JsonReply, OpenAIStandIn, chat_completion

REPO = Path(__file__).resolve().parents[2]
_PATCH_POINTS = [
    (AsyncCompletions, "create"),
    (Completions, "create"),
    (AsyncResponses, "create"),
    (Responses, "create"),
    (ThreadPoolExecutor, "submit"),
]
_ORIGINALS = [owner.__dict__[name] for owner, name in _PATCH_POINTS]


@otel_meta.tool
def noop() -> int:
    return 1


def _chat(server: OpenAIStandIn) -> None:
    server.enqueue(JsonReply(chat_completion("hi")))
    client = track(openai.OpenAI(base_url=server.base_url, api_key="t", max_retries=0))
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])


def test_instrument_twice_patches_once(instrument: Any, server: OpenAIStandIn,
                                       exporter: InMemorySpanExporter) -> None:
    instrument()
    instrument()
    assert all(is_patched(owner, name) for owner, name in _PATCH_POINTS)
    _chat(server)
    assert [s.name for s in exporter.get_finished_spans()] == ["chat gpt-4o-mini"]


def test_patched_methods_keep_signature_and_coroutine_kind(instrument: Any) -> None:
    instrument()
    for (owner, name), original in zip(_PATCH_POINTS, _ORIGINALS):
        patched = owner.__dict__[name]
        assert patched is not original
        assert patched.__wrapped__ is original
        assert inspect.signature(patched) == inspect.signature(original)
        assert inspect.iscoroutinefunction(patched) == inspect.iscoroutinefunction(original)


def test_uninstrument_leaves_nothing_patched_and_reinstrument_works(
    provider: TracerProvider, server: OpenAIStandIn, exporter: InMemorySpanExporter
) -> None:
    otel_meta.instrument(tracer_provider=provider)
    otel_meta.uninstrument()
    assert [owner.__dict__[name] for owner, name in _PATCH_POINTS] == _ORIGINALS
    _chat(server)
    noop()
    assert exporter.get_finished_spans() == ()
    otel_meta.instrument(tracer_provider=provider)
    try:
        _chat(server)
        noop()
        assert [s.name for s in exporter.get_finished_spans()] == ["chat gpt-4o-mini", "execute_tool noop"]
    finally:
        otel_meta.uninstrument()


def test_instrumentor_entry_point_surface(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    instrumentor = OtelMetaInstrumentor()
    assert instrumentor is OtelMetaInstrumentor()
    assert tuple(instrumentor.instrumentation_dependencies()) == ()
    instrumentor.instrument(tracer_provider=provider, skip_dep_check=True)
    try:
        assert instrumentor.is_instrumented_by_opentelemetry
        noop()
        assert len(exporter.get_finished_spans()) == 1
    finally:
        instrumentor.uninstrument()
    assert not instrumentor.is_instrumented_by_opentelemetry


def test_instrumentor_accepts_every_base_instrumentor_keyword(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    instrumentor = OtelMetaInstrumentor()
    instrumentor.instrument(tracer_provider=provider, meter_provider=object(), logger_provider=object(),
                            event_logger_provider=object(), schema_url="https://opentelemetry.io/schemas/1.45.0",
                            skip_dep_check=True, raise_exception_on_conflict=False, capture_content=True)
    try:
        noop()
        [span] = exporter.get_finished_spans()
        assert span.attributes[sc.GEN_AI_TOOL_CALL_RESULT] == "1"
    finally:
        instrumentor.uninstrument()


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(OTEL_META_STRICT="1", **extra)
    return env


def test_import_auto_imports_nothing_heavy() -> None:
    script = textwrap.dedent("""
        import sys
        import otel_meta.auto
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("numpy", "sklearn", "scipy", "analyzers", "openai"))
        assert not heavy, heavy
        import otel_meta._runtime as runtime
        assert runtime.STATE.instrumented
    """)
    subprocess.run([sys.executable, "-c", script], env=_clean_env(OTEL_TRACES_EXPORTER="none"), cwd=REPO,
                   check=True, timeout=60)


def test_auto_reuses_the_process_provider() -> None:
    script = textwrap.dedent("""
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        import otel_meta.auto
        import otel_meta

        @otel_meta.tool
        def noop():
            return 1

        assert noop() == 1
        assert trace.get_tracer_provider() is provider
        assert [s.name for s in exporter.get_finished_spans()] == ["execute_tool noop"]
    """)
    subprocess.run([sys.executable, "-c", script], env=_clean_env(), cwd=REPO, check=True, timeout=60)


def test_auto_configures_batch_export_when_there_is_no_provider() -> None:
    script = textwrap.dedent("""
        import otel_meta.auto
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        provider = trace.get_tracer_provider()
        assert isinstance(provider, TracerProvider), provider
        # The SDK keeps its processors privately; this is the only way to see which kind was set up.
        processors = provider._active_span_processor._span_processors
        assert processors and all(isinstance(p, BatchSpanProcessor) for p in processors), processors
    """)
    subprocess.run([sys.executable, "-c", script], env=_clean_env(), cwd=REPO, check=True, timeout=60)


def test_importing_the_package_configures_nothing() -> None:
    script = textwrap.dedent("""
        import sys
        import otel_meta
        assert not [m for m in sys.modules if m.startswith(("opentelemetry", "otel_meta._"))]
    """)
    subprocess.run([sys.executable, "-c", script], env=_clean_env(), cwd=REPO, check=True, timeout=60)


def test_sdk_disabled_configures_no_provider() -> None:
    script = textwrap.dedent("""
        import sys
        import otel_meta.auto
        from opentelemetry import trace
        assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
        assert "opentelemetry.sdk.trace" not in sys.modules
    """)
    subprocess.run([sys.executable, "-c", script], env=_clean_env(OTEL_SDK_DISABLED="true"), cwd=REPO,
                   check=True, timeout=60)


@pytest.mark.slow
def test_opentelemetry_instrument_loads_the_entry_point(tmp_path: Path, server: OpenAIStandIn) -> None:
    agent = tmp_path / "agent.py"
    agent.write_text(textwrap.dedent("""
        import os
        import otel_meta
        import openai

        @otel_meta.tool
        def get_pods():
            return ["web-1"]

        client = openai.OpenAI(base_url=os.environ["STAND_IN_URL"], api_key="t", max_retries=0)
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
        get_pods()
    """))
    receiver = HttpReceiver()
    try:
        server.enqueue(JsonReply(chat_completion("hi")))
        launcher = Path(sys.executable).parent / "opentelemetry-instrument"
        env = _clean_env(STAND_IN_URL=server.base_url, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
                         OTEL_BSP_SCHEDULE_DELAY="50",
                         # the third-party openai instrumentations are installed too; keep them out
                         OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="openai")
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        subprocess.run([str(launcher), "python", str(agent)], env=env, cwd=tmp_path, check=True, timeout=60)
        assert sorted(receiver.received.wait_for(2)) == ["chat gpt-4o-mini", "execute_tool get_pods"]
    finally:
        receiver.stop()
