"""The ingest writer on both backends, through a real server: no span stops ingest or assembly, one
request's bad value fails only that request, and ``/healthz`` tells why the store cannot be written."""

from __future__ import annotations

import http.client
import json
import math
import sqlite3
from concurrent.futures import ThreadPoolExecutor

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue, KeyValueList

from analyzers.receiver.server import AnalyzerServer
from analyzers.store.sqlite import SqliteStore
from otel_meta import semconv as sc
from tests.analyzers.receiver import payloads as p

PROTOBUF = {"Content-Type": "application/x-protobuf"}


def call(server: AnalyzerServer, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    host, port = server.http_address
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request(method, path, body, PROTOBUF if body is not None else {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def strange_tool_span(trace_id: bytes):
    span = p.tool_span(trace_id, 2, "odd", 1)
    span.attributes.append(KeyValue(key=sc.OTEL_META_REASONING_CHARS, value=AnyValue(double_value=math.inf)))
    user_map = KeyValueList(values=[KeyValue(key="$bytes", value=AnyValue(string_value="abc"))])
    span.attributes.append(KeyValue(key="user.map", value=AnyValue(kvlist_value=user_map)))
    return span


def test_a_strange_valid_span_stops_nothing_and_survives_a_restart(any_store):
    odd, plain = p.new_trace_id(), p.new_trace_id()
    with AnalyzerServer(any_store, grpc_port=None) as server:
        assert call(server, "POST", "/v1/traces", p.body(p.agent_span(odd), strange_tool_span(odd)))[0] == 200
        assert call(server, "POST", "/v1/traces", p.body(p.agent_span(plain, "next")))[0] == 200
        status, data = call(server, "GET", "/api/runs")
        assert status == 200 and {r["trace_id"] for r in json.loads(data)} == {odd.hex(), plain.hex()}
        assert call(server, "GET", "/healthz")[0] == 200
    tool = next(s for s in any_store.spans_for_trace(odd.hex()) if s.span_id == f"{2:016x}")
    assert tool.attributes[sc.OTEL_META_REASONING_CHARS] == math.inf  # stored as it came
    assert tool.attributes["user.map"] == {"$bytes": "abc"}
    assert any_store.dirty_traces(10) == []  # nothing left to poison the next start
    with AnalyzerServer(any_store, grpc_port=None) as server:
        assert call(server, "POST", "/v1/traces", p.body(p.agent_span(p.new_trace_id(), "after")))[0] == 200
        assert len(json.loads(call(server, "GET", "/api/runs")[1])) == 3


def test_one_requests_out_of_range_time_fails_only_that_request(any_store):
    bad = p.agent_span(p.new_trace_id(), "bad")
    bad.start_time_unix_nano = bad.end_time_unix_nano = 2**64 - 1  # a valid fixed64
    good = [p.new_trace_id() for _ in range(39)]
    bodies = [p.body(bad)] + [p.body(p.agent_span(t, "good")) for t in good]
    with AnalyzerServer(any_store, grpc_port=None) as server, ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda b: call(server, "POST", "/v1/traces", b), bodies))
    # this request's own answer, not retryable: the receiver rejects the span as a partial success
    # before it reaches the store (the store's SpanValueError stays the backstop for other writers)
    assert answers[0][0] == 200 and b"2^63-1" in answers[0][1]
    assert ExportTraceServiceResponse.FromString(answers[0][1]).partial_success.rejected_spans == 1
    assert [status for status, _ in answers[1:]] == [200] * 39
    assert {r.trace_id for r in any_store.list_runs("good")} == {t.hex() for t in good}


def test_healthz_names_why_the_store_cannot_be_written(tmp_path):
    store = SqliteStore(tmp_path / "x.db")
    try:
        with AnalyzerServer(store, grpc_port=None) as server:
            status, data = call(server, "GET", "/healthz")
            assert (status, json.loads(data)) == (200, {"status": "ok"})
            conn = sqlite3.connect(store.path)
            conn.execute("DROP TABLE spans")
            conn.commit()
            conn.close()
            status, data = call(server, "GET", "/healthz")
            assert status == 503 and "lacks its table(s) spans" in json.loads(data)["reason"]
            assert call(server, "POST", "/v1/traces", p.body(p.agent_span(p.new_trace_id())))[0] == 503
    finally:
        store.close()
