"""Hostile and broken input (issue 12's red-team findings): slow clients, gzip members, memory by bytes,
out-of-range values. Each test fails if its fix is undone."""

from __future__ import annotations

import gzip
import json
import selectors
import socket
import sqlite3
import threading
import time

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from analyzers.receiver.admission import BodyPace
from analyzers.receiver.server import AnalyzerServer
from analyzers.store.sqlite import SqliteStore
from tests.analyzers.receiver import payloads as p
from tests.analyzers.receiver.test_bad_input import PROTOBUF, assert_still_serving, post, status_message

ATTACKER = "127.0.0.2"  # all of 127.0.0.0/8 is loopback on Linux: a second client address


def _headers(length: int) -> bytes:
    return (f"POST /v1/traces HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-protobuf\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


def _reply(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_a_trickling_body_gets_408_and_its_connection_closed(store):
    pace = BodyPace(grace_s=0.5, min_rate_bytes_per_s=64 << 10, total_s=5)
    with AnalyzerServer(store, grpc_port=None, body_pace=pace) as srv:
        sock = socket.create_connection(srv.http_address, timeout=10)
        sock.sendall(_headers(1_000_000) + b"\x0a")
        reply = _reply(sock)
        assert reply.startswith(b"HTTP/1.1 408") and b"connection: close" in reply.lower()
        assert b"arrived too slowly" in sock.recv(65536) or b"arrived too slowly" in reply
        sock.close()
        assert_still_serving(srv, store)


def test_slow_headers_are_cut_at_the_header_deadline(store):
    with AnalyzerServer(store, grpc_port=None, header_deadline_s=0.3) as srv:
        sock = socket.create_connection(srv.http_address, timeout=10)
        sock.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: t\r\n")
        assert sock.recv(100) == b""  # closed by the server, no answer to a request never finished
        sock.close()
        assert_still_serving(srv, store)


def test_slow_clients_hold_only_their_own_slots_and_exports_still_land(store):
    pace = BodyPace(grace_s=60, min_rate_bytes_per_s=1, total_s=120)  # they hold their slots throughout
    with AnalyzerServer(store, grpc_port=None, body_pace=pace, bodies_per_client=4) as srv:
        slow = []
        for _ in range(32):
            sock = socket.create_connection(srv.http_address, timeout=10, source_address=(ATTACKER, 0))
            sock.sendall(_headers(30 << 20) + b"\x0a")
            slow.append(sock)
        selector = selectors.DefaultSelector()
        for sock in slow:
            selector.register(sock, selectors.EVENT_READ)
        refused: list[bytes] = []
        deadline = time.monotonic() + 20
        while len(refused) < 28:  # every body beyond the client's 4 is refused at once
            assert time.monotonic() < deadline, refused
            for key, _ in selector.select(1):
                refused.append(_reply(key.fileobj))  # type: ignore[arg-type]
                selector.unregister(key.fileobj)
        assert all(r.startswith(b"HTTP/1.1 503") and b"retry-after: 1" in r.lower() for r in refused)
        assert not selector.select(0.2), "a slow client was answered although it kept within its slots"

        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(HttpExporter(endpoint=f"{srv.base_url}/v1/traces")))
        with provider.get_tracer("t").start_as_current_span("invoke_agent ok") as span:
            pass
        provider.shutdown()
        assert store.spans_for_trace(format(span.get_span_context().trace_id, "032x"))
        for sock in slow:
            sock.close()
        selector.close()


def test_every_gzip_member_is_decoded(server, store):
    first, second = p.new_trace_id(), p.new_trace_id()
    body = gzip.compress(p.body(p.agent_span(first))) + gzip.compress(p.body(p.agent_span(second)))
    status, _, _ = post(server, body, {**PROTOBUF, "Content-Encoding": "gzip"})
    assert status == 200 and server.await_runs()
    assert store.get_run(first.hex()) is not None and store.get_run(second.hex()) is not None


@pytest.mark.parametrize("tail,status,needle", [
    (b"garbage", 400, "trailing data after its last member"),
    (b"\0" * 16, 400, "trailing data after its last member"),
    (gzip.compress(b"\x0a"), 400, "not a valid OTLP"),  # the second member completes no valid message
    (gzip.compress(b"\0" * (200 << 10)), 413, "decompressed body is over the limit"),  # members add up
], ids=["garbage", "zeros", "member-not-otlp", "members-over-limit"])
def test_gzip_trailing_bytes_or_members_over_the_limit_are_refused(server, store, tail, status, needle):
    trace_id = p.new_trace_id()
    body = gzip.compress(p.body(p.agent_span(trace_id)) + b"\0" * (100 << 10) * (status == 413)) + tail
    got, _, data = post(server, body, {**PROTOBUF, "Content-Encoding": "gzip"})
    assert got == status and needle in status_message(data)
    assert store.spans_for_trace(trace_id.hex()) == []


def _tiny_spans(n: int) -> bytes:
    trace_id = p.new_trace_id()
    return p.body(*(p.span(trace_id, i + 1, "s") for i in range(n)))


def _empty_spans(n: int) -> bytes:
    """A request of ``n`` empty spans: 2 bytes each on the wire, ~180 bytes each once parsed."""
    return p._field(1, p._field(2, p._field(2, b"") * n))


def test_a_request_with_more_spans_than_the_queue_holds_is_refused_before_decoding(tmp_path):
    store = SqliteStore(tmp_path / "q.db")
    with AnalyzerServer(store, grpc_port=None, max_queued_spans=100) as srv:
        status, _, data = post(srv, _tiny_spans(150), PROTOBUF)
        assert status == 413 and "holds 150 spans, over the limit of 100" in status_message(data)
        status, _, data = post(srv, _empty_spans(50_000), PROTOBUF)  # counted on the wire, never parsed
        assert status == 413 and "holds 50000 spans" in status_message(data)
        doc = {"resourceSpans": [{"scopeSpans": [{"spans": [{}] * 101}]}]}
        status, _, data = post(srv, json.dumps(doc).encode(), {"Content-Type": "application/json"})
        assert status == 413 and "holds 101 spans" in json.loads(data)["message"]
        assert store.count_spans() == 0 and "spans_accepted" not in srv.counters
        assert srv.budget.used_bytes == 0
    store.close()


def test_memory_is_bounded_by_bytes_in_flight(tmp_path):
    store = SqliteStore(tmp_path / "mem.db", busy_timeout_s=20)
    srv = AnalyzerServer(store, grpc_port=None, max_body_bytes=256 << 10, max_inflight_bytes=1 << 20).start()
    status, _, data = post(srv, _tiny_spans(1000), PROTOBUF)  # decoding 1000 spans needs ~1.5 MB
    assert status == 413 and "over the receiver's limit of" in status_message(data)

    blocker = sqlite3.connect(tmp_path / "mem.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # accepted requests wait for their commit, holding their memory
    bodies = [_tiny_spans(200) for _ in range(8)]  # ~0.4 MB each once decoded
    answers: list[tuple[int, dict, bytes]] = [None] * 8  # type: ignore[list-item]
    peak = 0
    threads = [threading.Thread(target=lambda i=i: answers.__setitem__(i, post(srv, bodies[i], PROTOBUF)))
               for i in range(8)]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while sum(a is not None for a in answers) < 6 and time.monotonic() < deadline:
            peak = max(peak, srv.budget.used_bytes)
            time.sleep(0.005)
        refused = [a for a in answers if a is not None]
        assert len(refused) >= 6 and all(a[0] == 503 and a[1]["retry-after"] == "1" for a in refused)
        assert all("bytes of requests in flight" in status_message(a[2]) for a in refused)
        assert peak <= srv.budget.limit_bytes
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        for t in threads:
            t.join(20)
    accepted = [i for i, a in enumerate(answers) if a[0] == 200]
    assert 1 <= len(accepted) <= 2 and store.count_spans() == 200 * len(accepted)
    assert srv.budget.used_bytes == 0
    srv.stop()
    store.close()


def test_out_of_range_times_are_this_requests_partial_success_never_its_neighbours_failure(server, store):
    def bad_request() -> bytes:
        trace_id = p.new_trace_id()
        huge = p.agent_span(trace_id)
        huge.start_time_unix_nano = huge.end_time_unix_nano = (1 << 64) - 1
        backwards = p.tool_span(trace_id, 2, "t", 1)
        backwards.end_time_unix_nano = backwards.start_time_unix_nano - 1
        return p.body(huge, backwards, p.tool_span(trace_id, 3, "ok", 2))

    innocent = [p.new_trace_id() for _ in range(40)]
    answers: dict[str, tuple[int, dict, bytes]] = {}

    def send(key: str, body: bytes) -> None:
        answers[key] = post(server, body, PROTOBUF)

    threads = [threading.Thread(target=send, args=(t.hex(), p.body(p.agent_span(t)))) for t in innocent]
    threads += [threading.Thread(target=send, args=(f"bad{i}", bad_request())) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert all(status == 200 for status, _, _ in answers.values()), answers
    for i in range(10):
        partial = ExportTraceServiceResponse.FromString(answers[f"bad{i}"][2]).partial_success
        assert partial.rejected_spans == 2 and "2^63-1" in partial.error_message
    assert server.await_runs() and all(store.get_run(t.hex()) is not None for t in innocent)
    assert store.count_spans() == 40 + 10
