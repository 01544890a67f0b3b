"""Real OTLP exporters (HTTP protobuf, gRPC) against a real AnalyzerServer on loopback."""

from __future__ import annotations

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link

from analyzers.receiver.server import AnalyzerServer
from otel_meta import semconv as sc


def _record_agent_run(exporter) -> str:
    provider = TracerProvider(resource=Resource.create({sc.SERVICE_NAME: "svc", "deployment": "test"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests.scope", "9.9")
    with tracer.start_as_current_span("invoke_agent diag", attributes={
        sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: "diag",
        sc.OTEL_META_OUTCOME: sc.OUTCOME_FAILURE, sc.OTEL_META_PROMPT_VERSION: "1.2.0",
    }) as agent:
        with tracer.start_as_current_span("think diag", attributes={
            sc.GEN_AI_OPERATION_NAME: sc.OP_THINK, sc.OTEL_META_THINKING_CHARS: 120,
        }):
            pass
        try:
            with tracer.start_as_current_span(
                "execute_tool get_pods",
                attributes={sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL, sc.GEN_AI_TOOL_NAME: "get_pods",
                            "list.attr": ("a", "b")},
                links=[Link(agent.get_span_context(), {"why": "test"})],
            ):
                raise TimeoutError("pods did not answer")
        except TimeoutError:
            pass
    provider.shutdown()
    return format(agent.get_span_context().trace_id, "032x")


def _check_run(server, store, trace_id: str) -> None:
    assert server.await_runs()
    run = store.get_run(trace_id)
    assert run is not None and run.complete
    assert (run.agent, run.outcome, run.prompt_version) == ("diag", False, "1.2.0")
    assert [(s.kind, s.name, s.ok, s.error_type) for s in run.steps] == [
        ("thinking", "think", True, None), ("tool", "get_pods", False, "TimeoutError")]
    assert run.steps[0].chars == 120
    spans = {s.name: s for s in store.spans_for_trace(trace_id)}
    tool = spans["execute_tool get_pods"]
    assert tool.attributes["list.attr"] == ["a", "b"]
    assert tool.events[0].name == "exception" and tool.events[0].attributes["exception.type"] == "TimeoutError"
    assert tool.links[0].attributes == {"why": "test"} and tool.links[0].trace_id == trace_id
    assert tool.resource_attributes["deployment"] == "test"
    assert (tool.scope_name, tool.scope_version) == ("tests.scope", "9.9")
    assert tool.status_code == 2


def test_http_protobuf_exporter_spans_are_stored_whole(server, store):
    host, port = server.http_address
    trace_id = _record_agent_run(HttpExporter(endpoint=f"http://{host}:{port}/v1/traces"))
    _check_run(server, store, trace_id)


def test_http_exporter_with_gzip_compression(server, store):
    from opentelemetry.exporter.otlp.proto.http import Compression

    host, port = server.http_address
    trace_id = _record_agent_run(HttpExporter(endpoint=f"http://{host}:{port}/v1/traces",
                                              compression=Compression.Gzip))
    _check_run(server, store, trace_id)


def test_grpc_exporter_spans_are_stored_whole(server, store):
    host, port = server.grpc_address
    trace_id = _record_agent_run(GrpcExporter(endpoint=f"{host}:{port}", insecure=True,
                                              compression=grpc.Compression.Gzip))
    _check_run(server, store, trace_id)


@pytest.fixture
def token_server(store):
    srv = AnalyzerServer(store, token="s3cret").start()
    yield srv
    srv.stop()


def test_token_protects_both_protocols(token_server, store):
    host, port = token_server.http_address
    ghost, gport = token_server.grpc_address
    ok_http = HttpExporter(endpoint=f"http://{host}:{port}/v1/traces", headers={"Authorization": "Bearer s3cret"})
    _check_run(token_server, store, _record_agent_run(ok_http))
    ok_grpc = GrpcExporter(endpoint=f"{ghost}:{gport}", insecure=True, headers={"authorization": "Bearer s3cret"})
    _check_run(token_server, store, _record_agent_run(ok_grpc))

    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    channel = grpc.insecure_channel(f"{ghost}:{gport}")
    export = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                                 request_serializer=ExportTraceServiceRequest.SerializeToString)
    for metadata in ((), (("authorization", "Bearer wrong"),)):
        with pytest.raises(grpc.RpcError) as err:
            export(ExportTraceServiceRequest(), metadata=metadata, timeout=5)
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    channel.close()


def test_over_the_grpc_concurrency_limit_the_answer_is_unavailable_and_the_exporter_retries(tmp_path):
    import sqlite3
    import threading
    import time

    from opentelemetry.sdk.trace.export import SpanExportResult

    from analyzers.store.sqlite import SqliteStore
    from tests.analyzers.receiver import payloads as p

    store = SqliteStore(tmp_path / "busy.db", busy_timeout_s=20)
    srv = AnalyzerServer(store, grpc_max_concurrent=1).start()
    host, port = srv.grpc_address
    blocker = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the one admitted export waits for its commit
    channel = grpc.insecure_channel(f"{host}:{port}")
    export = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
    first = p.new_trace_id()
    holder = threading.Thread(target=lambda: export(p.body(p.agent_span(first)), timeout=30))
    results: list[SpanExportResult] = []
    try:
        holder.start()
        deadline = time.monotonic() + 10
        while srv.ingest.queued_spans == 0:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        with pytest.raises(grpc.RpcError) as err:
            export(p.body(p.agent_span(p.new_trace_id())), timeout=5)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE and "in progress" in err.value.details()

        provider = TracerProvider()
        exporter = GrpcExporter(endpoint=f"{host}:{port}", insecure=True, timeout=30)
        with provider.get_tracer("t").start_as_current_span("invoke_agent retried") as span:
            pass
        readable = [span]  # an SDK span is a ReadableSpan once ended
        sender = threading.Thread(target=lambda: results.append(exporter.export(readable)))
        sender.start()
        while srv.counters.get("grpc_refused_busy", 0) < 2:  # the exporter's first try was refused
            assert time.monotonic() < deadline + 10
            time.sleep(0.01)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        holder.join(30)
    sender.join(30)
    assert results == [SpanExportResult.SUCCESS]
    assert store.spans_for_trace(format(span.get_span_context().trace_id, "032x"))
    assert srv.await_runs() and store.get_run(first.hex()) is not None
    channel.close()
    srv.stop()
    store.close()
