"""Every bad-input case answers clearly, and the server keeps serving (and keeps what it stored)."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import sqlite3
import threading
import time

import grpc
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from analyzers.assembly import RunAssembler
from analyzers.receiver.otlp import decode_request
from analyzers.receiver.server import AnalyzerServer
from tests.analyzers.receiver import payloads as p

PROTOBUF = {"Content-Type": "application/x-protobuf"}


def post(server, body: bytes, headers: dict[str, str], path: str = "/v1/traces") -> tuple[int, dict, bytes]:
    host, port = server.http_address
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("POST", path, body, headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def assert_still_serving(server, store) -> None:
    trace_id = p.new_trace_id()
    status, _, data = post(server, p.body(p.agent_span(trace_id)), PROTOBUF)
    assert status == 200, data
    assert server.await_runs() and store.get_run(trace_id.hex()) is not None


def status_message(data: bytes) -> str:
    return status_pb2.Status.FromString(data).message


@pytest.fixture
def stored_before(server, store):
    trace_id = p.new_trace_id()
    assert post(server, p.body(p.agent_span(trace_id), p.tool_span(trace_id, 2, "ls", 1)), PROTOBUF)[0] == 200
    yield trace_id.hex()
    assert server.await_runs()
    assert [s.name for s in store.get_run(trace_id.hex()).steps] == ["ls"]
    assert_still_serving(server, store)


@pytest.mark.parametrize("body,headers,needle", [
    (b"\x0a\xff\xff\xff\xff\x0f garbage", PROTOBUF, "not a valid OTLP"),
    (b'{"resourceSpans": [', {"Content-Type": "application/json"}, "not valid JSON"),
    (b'{"resourceSpans": [{"scopeSpans": 5}]}', {"Content-Type": "application/json"}, "not an OTLP"),
    (gzip.compress(p.body(p.agent_span(b"\x01" * 16)), mtime=0)[:-12],
     {**PROTOBUF, "Content-Encoding": "gzip"}, "truncated"),
    (b"not gzip at all", {**PROTOBUF, "Content-Encoding": "gzip"}, "could not be decompressed"),
    (b'{"a":' * 200 + b"1" + b"}" * 200, {"Content-Type": "application/json"}, "nested deeper"),
    (b"[" * 100_000 + b"]" * 100_000, {"Content-Type": "application/json"}, "nested deeper"),
    (p.deep_body(), PROTOBUF, "not a valid OTLP"),
    (gzip.compress(p.deep_body(), mtime=0), {**PROTOBUF, "Content-Encoding": "gzip"}, "not a valid OTLP"),
])
def test_malformed_bodies_get_400_with_a_message(server, stored_before, body, headers, needle):
    status, resp_headers, data = post(server, body, headers)
    assert status == 400
    if resp_headers["content-type"] == "application/json":
        assert needle in json.loads(data)["message"]
    else:
        assert needle in status_message(data)


def test_body_over_the_limit_gets_a_readable_413(server, stored_before):
    status, _, data = post(server, b"\0" * (300 << 10), PROTOBUF)
    assert status == 413 and "over the limit" in status_message(data)


def test_gzip_bomb_gets_413_after_decompression(server, stored_before):
    bomb = gzip.compress(b"\0" * (8 << 20))
    assert len(bomb) < 256 << 10
    status, _, data = post(server, bomb, {**PROTOBUF, "Content-Encoding": "gzip"})
    assert status == 413 and "decompressed body is over the limit" in status_message(data)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", ""])
def test_unsupported_content_type_gets_415(server, stored_before, content_type):
    status, _, data = post(server, b"hello", {"Content-Type": content_type} if content_type else {})
    assert status == 415 and "Content-Type" in json.loads(data)["error"]


def test_wrong_or_missing_token_gets_401_but_healthz_is_open(store):
    srv = AnalyzerServer(store, token="t0k").start()
    try:
        for headers in (PROTOBUF, {**PROTOBUF, "Authorization": "Bearer nope"}):
            status, resp_headers, _ = post(srv, p.body(p.agent_span(p.new_trace_id())), headers)
            assert status == 401 and "bearer" in resp_headers["www-authenticate"].lower()
        host, port = srv.http_address
        conn = http.client.HTTPConnection(host, port, timeout=5)
        conn.request("GET", "/healthz")
        health = conn.getresponse()
        assert health.status == 200 and health.read() == b'{"status":"ok"}'
        conn.request("GET", "/api/runs")
        resp = conn.getresponse()
        assert resp.status == 401 and b"token" in resp.read()
        conn.close()
        trace_id = p.new_trace_id()
        status, _, _ = post(srv, p.body(p.agent_span(trace_id)), {**PROTOBUF, "Authorization": "Bearer t0k"})
        assert status == 200 and srv.await_runs() and store.get_run(trace_id.hex()) is not None
    finally:
        srv.stop()


def _every_endpoint() -> list[tuple[str, str]]:
    from analyzers.api import all_routes

    paths = [("POST", "/v1/traces")]
    for route in all_routes():
        paths.append((route.method, re.sub(r"\{[^}]+\}", "ab" * 16, route.pattern)))
    return paths


def test_the_token_guards_every_endpoint_but_healthz_rest_included(store):
    endpoints = _every_endpoint()
    assert ("GET", "/api/runs") in endpoints and ("POST", f"/api/runs/{'ab' * 16}/outcome") in endpoints
    trace_id = p.new_trace_id()
    store.write_spans(decode_request(p.request(p.agent_span(trace_id))).spans)
    RunAssembler(store).assemble_pending()
    with AnalyzerServer(store, token="t0k") as srv:
        host, port = srv.http_address
        conn = http.client.HTTPConnection(host, port, timeout=10)
        try:
            for method, path in endpoints + [("GET", "/no/such/endpoint")]:
                for auth in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "t0k"}):
                    conn.request(method, path, b"{}" if method == "POST" else None,
                                 {"Content-Type": "application/json", **auth})
                    resp = conn.getresponse()
                    data = resp.read()
                    assert resp.status == 401, (method, path, auth, resp.status, data)
            conn.request("GET", "/api/runs", headers={"Authorization": "Bearer t0k"})
            resp = conn.getresponse()
            assert resp.status == 200 and json.loads(resp.read())[0]["trace_id"] == trace_id.hex()
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            assert resp.status == 200 and resp.read() == b'{"status":"ok"}'
        finally:
            conn.close()


def test_invalid_span_ids_are_a_partial_success(server, store):
    good, bad_short, bad_zero = p.new_trace_id(), b"\x01\x02\x03\x04", b"\0" * 16
    body = p.body(p.agent_span(good), p.agent_span(bad_short), p.agent_span(bad_zero))
    status, _, data = post(server, body, PROTOBUF)
    assert status == 200
    response = ExportTraceServiceResponse.FromString(data)
    assert response.partial_success.rejected_spans == 2
    assert "trace_id must be 16 bytes" in response.partial_success.error_message
    assert server.await_runs() and store.get_run(good.hex()) is not None


def test_json_encoding_with_hex_ids_and_partial_success(server, store):
    trace_id = p.new_trace_id().hex()
    doc = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "j"}}]},
           "scopeSpans": [{"scope": {"name": "json"}, "spans": [
               {"traceId": trace_id, "spanId": "00000000000000a1", "name": "invoke_agent jag", "kind": 1,
                "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000500000000",
                "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "invoke_agent"}},
                               {"key": "gen_ai.agent.name", "value": {"stringValue": "jag"}},
                               {"key": "retries", "value": {"intValue": "3"}}]},
               {"traceId": trace_id, "spanId": "abcd", "name": "bad id"}]}]}]}
    status, headers, data = post(server, json.dumps(doc).encode(), {"Content-Type": "application/json"})
    assert status == 200 and headers["content-type"] == "application/json"
    assert json.loads(data)["partialSuccess"]["rejectedSpans"] == "1"
    [span] = store.spans_for_trace(trace_id)
    assert (span.span_id, span.attributes["retries"]) == ("00000000000000a1", 3)
    assert server.await_runs() and store.get_run(trace_id).duration_ms == 500


def test_grpc_malformed_protobuf_is_invalid_argument(server, store):
    host, port = server.grpc_address
    channel = grpc.insecure_channel(f"{host}:{port}")
    export = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
    with pytest.raises(grpc.RpcError) as err:
        export(b"\x0a\xff\xff\xff\xff\x0f garbage", timeout=5)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "protobuf" in err.value.details()
    with pytest.raises(grpc.RpcError) as err:
        export(p.deep_body(), timeout=5)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "protobuf" in err.value.details()
    assert export(p.deep_body(10), timeout=5) == b""  # the same shape, shallow: accepted
    assert export(p.body(p.agent_span(p.new_trace_id())), timeout=5) == b""
    channel.close()
    assert_still_serving(server, store)


def test_overload_answers_503_with_retry_after_and_grpc_unavailable(tmp_path):
    from analyzers.store.sqlite import SqliteStore

    store = SqliteStore(tmp_path / "busy.db", busy_timeout_s=20)
    srv = AnalyzerServer(store, max_queued_spans=1).start()
    blocker = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the file: the ingest writer waits
    first = p.new_trace_id()
    results: list[int] = []
    t = threading.Thread(target=lambda: results.append(post(srv, p.body(p.agent_span(first)), PROTOBUF)[0]))
    try:
        t.start()
        deadline = time.monotonic() + 10
        while srv.ingest.queued_spans == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        status, headers, data = post(srv, p.body(p.agent_span(p.new_trace_id())), PROTOBUF)
        assert status == 503 and headers["retry-after"] == "1"
        assert "queue is full" in status_message(data)
        host, port = srv.grpc_address
        channel = grpc.insecure_channel(f"{host}:{port}")
        with pytest.raises(grpc.RpcError) as err:
            channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")(
                p.body(p.agent_span(p.new_trace_id())), timeout=5)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        channel.close()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        t.join(20)
    assert results == [200] and srv.await_runs() and store.get_run(first.hex()) is not None
    srv.stop()
    store.close()


def test_overload_refuses_at_once_and_the_queue_never_holds_more_than_its_bound(tmp_path):
    from analyzers.store.sqlite import SqliteStore

    store = SqliteStore(tmp_path / "bounded.db", busy_timeout_s=20)
    srv = AnalyzerServer(store, grpc_port=None, max_queued_spans=100).start()
    blocker = sqlite3.connect(tmp_path / "bounded.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the writer cannot commit: every accepted request waits in the queue
    results: dict[bytes, tuple[int, dict]] = {}
    lock = threading.Lock()

    def send(trace_id: bytes, n_spans: int) -> None:
        spans = [p.agent_span(trace_id)] + [p.tool_span(trace_id, i, f"t{i}", i) for i in range(2, n_spans + 1)]
        status, headers, _ = post(srv, p.body(*spans), PROTOBUF)
        with lock:
            results[trace_id] = (status, headers)

    first = p.new_trace_id()
    threads = [threading.Thread(target=send, args=(first, 40))]
    try:
        threads[0].start()
        deadline = time.monotonic() + 10
        while srv.ingest.queued_spans < 40:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        crowd = [p.new_trace_id() for _ in range(12)]
        threads += [threading.Thread(target=send, args=(t, 30)) for t in crowd]
        for t in threads[1:]:
            t.start()
        deadline = time.monotonic() + 10
        while True:  # ten of the twelve are refused while the store is still blocked
            assert srv.ingest.queued_spans <= 100
            with lock:
                refused = [tid for tid, (status, _) in results.items() if status != 200]
            if len(refused) == 10:
                break
            assert time.monotonic() < deadline, results
            time.sleep(0.01)
        assert srv.ingest.queued_spans == 100 and first not in results
        assert all(results[tid][0] == 503 and results[tid][1]["retry-after"] == "1" for tid in refused)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        for t in threads:
            t.join(20)
    accepted = [tid for tid, (status, _) in results.items() if status == 200]
    assert len(accepted) == 3 and first in accepted
    assert all(len(store.spans_for_trace(tid.hex())) == (40 if tid == first else 30) for tid in accepted)
    assert all(store.spans_for_trace(tid.hex()) == [] for tid in refused)
    assert srv.ingest.queued_spans == 0
    assert_still_serving(srv, store)
    srv.stop()
    store.close()
