"""OTLP logs and metrics from the real OTel SDK exporters: evaluation results are stored, the rest is
accepted and dropped (counted), and every bad-input answer of /v1/traces holds for /v1/logs too."""

from __future__ import annotations

import gzip
import json

import grpc
import pytest
from google.rpc import status_pb2
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcMetricExporter
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as HttpMetricExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceResponse
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult
from opentelemetry.sdk.trace import TracerProvider

from analyzers.receiver.server import AnalyzerServer
from otel_meta import semconv as sc
from tests.analyzers.receiver import payloads as p
from tests.analyzers.receiver.test_bad_input import PROTOBUF, post


def _emit_evaluation_and_a_plain_log(exporter) -> tuple[str, str]:
    """Inside one span: a ``gen_ai.evaluation.result`` event and an ordinary log line."""
    logs = LoggerProvider()
    logs.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = logs.get_logger("tests.evaluator")
    tracer = TracerProvider().get_tracer("tests")
    with tracer.start_as_current_span("invoke_agent judged") as span:
        logger.emit(event_name=sc.EVENT_EVALUATION_RESULT, attributes={
            sc.GEN_AI_EVALUATION_NAME: "task_success", sc.GEN_AI_EVALUATION_SCORE_VALUE: 0.25,
            sc.GEN_AI_EVALUATION_SCORE_LABEL: "fail", sc.GEN_AI_EVALUATION_EXPLANATION: "wrong pod restarted",
        })
        logger.emit(body="an ordinary log line", attributes={"level": "info"})
    logs.shutdown()
    ctx = span.get_span_context()
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


def _check_evaluation(store, trace_id: str, span_id: str) -> None:
    [record] = store.evaluations_for_trace(trace_id)
    assert (record.trace_id, record.span_id, record.name) == (trace_id, span_id, "task_success")
    assert (record.score_value, record.score_label, record.explanation) == (0.25, "fail", "wrong pod restarted")
    assert record.time_unix_nano > 0


def test_http_log_exporter_evaluations_are_stored_and_other_records_dropped(server, store):
    host, port = server.http_address
    trace_id, span_id = _emit_evaluation_and_a_plain_log(HttpLogExporter(endpoint=f"http://{host}:{port}/v1/logs"))
    _check_evaluation(store, trace_id, span_id)
    counters = server.counters
    assert (counters["evaluations_accepted"], counters["log_records_dropped"]) == (1, 1)


def test_grpc_log_exporter_evaluations_are_stored(server, store):
    host, port = server.grpc_address
    trace_id, span_id = _emit_evaluation_and_a_plain_log(
        GrpcLogExporter(endpoint=f"{host}:{port}", insecure=True, compression=grpc.Compression.Gzip))
    _check_evaluation(store, trace_id, span_id)
    assert server.counters["log_records_dropped"] == 1


def _logs_request(*records: LogRecord) -> ExportLogsServiceRequest:
    return ExportLogsServiceRequest(resource_logs=[ResourceLogs(scope_logs=[ScopeLogs(log_records=list(records))])])


def test_logs_partial_success_says_what_was_rejected_and_dropped(server, store):
    trace_id = p.new_trace_id()
    named_by_attribute = LogRecord(trace_id=trace_id, time_unix_nano=5, attributes=[
        p.kv(sc.EVENT_NAME, sc.EVENT_EVALUATION_RESULT), p.kv(sc.GEN_AI_EVALUATION_NAME, "helpfulness"),
        p.kv(sc.GEN_AI_EVALUATION_SCORE_LABEL, "good")])
    no_trace = LogRecord(event_name=sc.EVENT_EVALUATION_RESULT, attributes=[p.kv(sc.GEN_AI_EVALUATION_NAME, "x")])
    no_name = LogRecord(event_name=sc.EVENT_EVALUATION_RESULT, trace_id=trace_id)
    plain = LogRecord(trace_id=trace_id)
    status, headers, data = post(server, gzip.compress(_logs_request(named_by_attribute, no_trace, no_name,
                                                                     plain).SerializeToString()),
                                 {**PROTOBUF, "Content-Encoding": "gzip"}, "/v1/logs")
    assert status == 200 and headers["content-type"] == "application/x-protobuf"
    partial = ExportLogsServiceResponse.FromString(data).partial_success
    assert partial.rejected_log_records == 2
    assert "needs the trace id" in partial.error_message and "is required" in partial.error_message
    assert "1 log record(s) accepted and dropped" in partial.error_message
    [record] = store.evaluations_for_trace(trace_id.hex())
    assert (record.name, record.score_label, record.span_id, record.time_unix_nano) == ("helpfulness", "good", None, 5)


def test_logs_in_otlp_json_with_hex_ids(server, store):
    trace_id, span_id = p.new_trace_id().hex(), "00000000000000a1"
    doc = {"resourceLogs": [{"scopeLogs": [{"logRecords": [
        {"timeUnixNano": "1700000000000000000", "traceId": trace_id, "spanId": span_id,
         "eventName": sc.EVENT_EVALUATION_RESULT,
         "attributes": [{"key": sc.GEN_AI_EVALUATION_NAME, "value": {"stringValue": "accuracy"}},
                        {"key": sc.GEN_AI_EVALUATION_SCORE_VALUE, "value": {"doubleValue": 0.9}}]}]}]}]}
    status, _, data = post(server, json.dumps(doc).encode(), {"Content-Type": "application/json"}, "/v1/logs")
    assert status == 200 and json.loads(data) == {}
    [record] = store.evaluations_for_trace(trace_id)
    assert (record.span_id, record.name, record.score_value) == (span_id, "accuracy", 0.9)


def test_a_read_after_an_evaluations_ack_sees_the_outcome_it_sets(server):
    from tests.analyzers.receiver.test_runs_api import get

    trace_id = p.new_trace_id()
    assert post(server, p.body(p.agent_span(trace_id)), PROTOBUF)[0] == 200
    assert get(server, f"/api/runs/{trace_id.hex()}")[1]["outcome"] is None
    judged = LogRecord(trace_id=trace_id, event_name=sc.EVENT_EVALUATION_RESULT, attributes=[
        p.kv(sc.GEN_AI_EVALUATION_NAME, "task_success"), p.kv(sc.GEN_AI_EVALUATION_SCORE_LABEL, "fail")])
    assert post(server, _logs_request(judged).SerializeToString(), PROTOBUF, "/v1/logs")[0] == 200
    run = get(server, f"/api/runs/{trace_id.hex()}")[1]
    assert (run["outcome"], run["outcome_source"]) == ("failure", "evaluation")


def test_an_all_zero_span_id_means_no_span_for_a_parent_and_a_log_record(server, store):
    trace_id = p.new_trace_id()
    root = p.agent_span(trace_id)
    root.parent_span_id = b"\0" * 8  # some SDKs send eight zero bytes for "no parent"
    assert post(server, p.body(root), PROTOBUF)[0] == 200
    [span] = store.spans_for_trace(trace_id.hex())
    assert span.parent_span_id is None
    assert server.await_runs() and store.get_run(trace_id.hex()).complete  # the root has arrived
    judged = LogRecord(trace_id=trace_id, span_id=b"\0" * 8, event_name=sc.EVENT_EVALUATION_RESULT,
                       attributes=[p.kv(sc.GEN_AI_EVALUATION_NAME, "accuracy")])
    assert post(server, _logs_request(judged).SerializeToString(), PROTOBUF, "/v1/logs")[0] == 200
    [record] = store.evaluations_for_trace(trace_id.hex())
    assert record.span_id is None


@pytest.mark.parametrize("body,headers,status,needle", [
    (b"\x0a\xff\xff\xff\xff\x0f garbage", PROTOBUF, 400, "not a valid OTLP ExportLogsServiceRequest"),
    (b'{"resourceLogs": 5}', {"Content-Type": "application/json"}, 400, "not an OTLP ExportLogsServiceRequest"),
    (gzip.compress(b"\0" * (8 << 20), mtime=0), {**PROTOBUF, "Content-Encoding": "gzip"}, 413, "decompressed body"),
    (b"\0" * (300 << 10), PROTOBUF, 413, "over the limit"),
])
def test_logs_bad_input_gets_the_same_answers_as_traces(server, store, body, headers, status, needle):
    got, resp_headers, data = post(server, body, headers, "/v1/logs")
    assert got == status
    message = (json.loads(data)["message"] if resp_headers["content-type"] == "application/json"
               else status_pb2.Status.FromString(data).message)
    assert needle in message
    assert post(server, b"x", {"Content-Type": "text/plain"}, "/v1/logs")[0] == 415


def _record_metrics(exporter) -> MetricExportResult:
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("tests")
    meter.create_counter("gen_ai.client.calls").add(3, {"model": "m"})
    meter.create_histogram("gen_ai.client.operation.duration").record(0.4)
    data = reader.get_metrics_data()
    assert data is not None
    return exporter.export(data)


def test_metrics_are_accepted_and_dropped_on_both_protocols(server):
    host, port = server.http_address
    assert _record_metrics(HttpMetricExporter(endpoint=f"http://{host}:{port}/v1/metrics")) == MetricExportResult.SUCCESS
    ghost, gport = server.grpc_address
    assert _record_metrics(GrpcMetricExporter(endpoint=f"{ghost}:{gport}", insecure=True)) == MetricExportResult.SUCCESS
    assert server.counters["metric_data_points_dropped"] == 4


def test_metrics_answer_says_they_are_dropped_and_rejects_nothing(server):
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
    from opentelemetry.proto.metrics.v1.metrics_pb2 import (
        Gauge,
        Metric,
        NumberDataPoint,
        ResourceMetrics,
        ScopeMetrics,
    )

    request = ExportMetricsServiceRequest(resource_metrics=[ResourceMetrics(scope_metrics=[ScopeMetrics(metrics=[
        Metric(name="g", gauge=Gauge(data_points=[NumberDataPoint(as_int=1), NumberDataPoint(as_int=2)]))])])])
    status, _, data = post(server, request.SerializeToString(), PROTOBUF, "/v1/metrics")
    assert status == 200
    partial = ExportMetricsServiceResponse.FromString(data).partial_success
    assert partial.rejected_data_points == 0 and "2 metric data point(s) accepted and dropped" in partial.error_message


def test_the_token_guards_logs_and_metrics_on_both_protocols(store):
    with AnalyzerServer(store, token="t0k") as srv:
        for path in ("/v1/logs", "/v1/metrics"):
            assert post(srv, _logs_request().SerializeToString(), PROTOBUF, path)[0] == 401
            assert post(srv, b"", {**PROTOBUF, "Authorization": "Bearer t0k"}, path)[0] == 200
        host, port = srv.grpc_address
        channel = grpc.insecure_channel(f"{host}:{port}")
        for service in ("logs.v1.LogsService", "metrics.v1.MetricsService"):
            with pytest.raises(grpc.RpcError) as err:
                channel.unary_unary(f"/opentelemetry.proto.collector.{service}/Export")(b"", timeout=5)
            assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        channel.close()
