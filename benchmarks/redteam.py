"""A bounded red-team pass against ``otel-meta serve`` on 127.0.0.1 (never another host).

Starts the real CLI server in a subprocess on free loopback ports with a fresh database, runs each
attack of issue 12 (slow bodies and headers, gzip members, huge and many-span requests, out-of-range
values beside innocent neighbours, gRPC overload, logs/metrics, REST bodies, a port in use, a
token-less public bind), and prints what the server answered, whether innocent traffic still landed,
and the server's peak RSS (``VmHWM``) after each attack. About a minute on 2 cores.

    python benchmarks/redteam.py
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import grpc
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from benchmarks.ingest import make_request

HOST = "127.0.0.1"
ATTACKER = "127.0.0.2"  # a second loopback address, so per-client bounds can tell attacker from exporter
PROTOBUF = {"Content-Type": "application/x-protobuf"}
LINE = re.compile(r"listening http=[^:]+:(\d+) grpc=[^:]+:(\d+)")


def _tiny_request(n: int, start: int = 1) -> bytes:
    """``n`` spans of one trace with ids and times only (30 bytes each with ``start=0``, 48 otherwise)."""
    trace_id = os.urandom(16)
    spans = [Span(trace_id=trace_id, span_id=(i + 1).to_bytes(8, "big"), start_time_unix_nano=start,
                  end_time_unix_nano=start) for i in range(n)]
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])]
                                     ).SerializeToString()


class Target:
    """The server under attack, and the client helpers the attacks use."""

    def __init__(self, db: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "analyzers", "serve", "--db", str(db),
                                      "--http-port", "0", "--grpc-port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        m = LINE.search(self.proc.stdout.readline())
        assert m, "serve did not start"
        self.http_port, self.grpc_port = int(m.group(1)), int(m.group(2))

    def peak_rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]

    def post(self, body: bytes, headers: dict[str, str] | None = None, path: str = "/v1/traces",
             timeout: float = 60) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(HOST, self.http_port, timeout=timeout)
        try:
            conn.request("POST", path, body, headers or PROTOBUF)
            resp = conn.getresponse()
            return resp.status, resp.read()
        except OSError as exc:
            return -1, str(exc).encode()
        finally:
            conn.close()

    def get(self, path: str) -> int:
        conn = http.client.HTTPConnection(HOST, self.http_port, timeout=30)
        conn.request("GET", path)
        status = conn.getresponse().status
        conn.close()
        return status

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


def _statuses(results: list[int]) -> str:
    return ", ".join(f"{n}× {s}" for s, n in sorted(Counter(results).items()))


def _innocent(target: Target, n: int) -> list[int]:
    return [target.post(make_request(1000 + i))[0] for i in range(n)]


def slow_bodies(t: Target) -> str:
    socks = []
    for _ in range(32):
        s = socket.create_connection((HOST, t.http_port), timeout=30, source_address=(ATTACKER, 0))
        s.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                  b"Content-Length: 31457280\r\n\r\n\x0a")
        socks.append(s)
    started = time.monotonic()
    innocent = _innocent(t, 10)
    health = t.get("/healthz")
    answers = []
    for s in socks:  # one byte every 5 s, as in the report, until the server answers
        try:
            while True:
                s.settimeout(5)
                try:
                    data = s.recv(200)
                    answers.append(data.split(b" ", 2)[1].decode() if data else "closed")
                    break
                except TimeoutError:
                    s.sendall(b"\x00")
        except OSError:
            answers.append("reset")
        s.close()
    took = time.monotonic() - started
    return (f"32 slow bodies from {ATTACKER}: {_statuses(answers)} (all answered within {took:.0f} s); "  # type: ignore[arg-type]
            f"meanwhile 10 exports: {_statuses(innocent)}, /healthz {health}")


def slow_headers(t: Target) -> str:
    socks = [socket.create_connection((HOST, t.http_port), timeout=30, source_address=(ATTACKER, 0))
             for _ in range(32)]
    for s in socks:
        s.sendall(b"POST /v1/traces HTTP/1.1\r\n")
    innocent = _innocent(t, 10)
    started = time.monotonic()
    closed = 0
    for s in socks:
        try:
            while True:
                s.settimeout(2)
                try:
                    if s.recv(100) == b"":
                        closed += 1
                    break
                except TimeoutError:
                    s.sendall(b"X")
        except OSError:
            closed += 1
        s.close()
    return (f"32 header tricklers: {closed} closed by the server within {time.monotonic() - started:.0f} s; "
            f"meanwhile 10 exports: {_statuses(innocent)}")


def gzip_members(t: Target) -> str:
    two = gzip.compress(_tiny_request(3)) + gzip.compress(_tiny_request(4))
    status, data = t.post(two, {**PROTOBUF, "Content-Encoding": "gzip"})
    trailing = t.post(gzip.compress(_tiny_request(3)) + b"garbage", {**PROTOBUF, "Content-Encoding": "gzip"})
    return f"two gzip members: {status} ({len(data)} B reply); member + trailing garbage: {trailing[0]}"


def huge_requests(t: Target) -> str:
    raw = _tiny_request(1_000_000, start=0)  # under the 32 MiB limit once decompressed
    million = gzip.compress(raw, 1)
    status, data = t.post(million, {**PROTOBUF, "Content-Encoding": "gzip"})
    why = status_pb2.Status.FromString(data).message.split(";")[0]
    with ThreadPoolExecutor(8) as pool:
        eight = list(pool.map(lambda _: t.post(million, {**PROTOBUF, "Content-Encoding": "gzip"})[0], range(8)))
    hundred_k = _tiny_request(100_000)
    with ThreadPoolExecutor(8) as pool:
        big = list(pool.map(lambda _: t.post(hundred_k)[0], range(8)))
    return (f"1e6 spans ({len(raw) / 1e6:.0f} MB, {len(million) / 1e6:.1f} MB gzip): {status} ({why!r}); "
            f"8 concurrent of those: {_statuses(eight)}; 8 concurrent 1e5-span requests: {_statuses(big)}")


def out_of_range(t: Target) -> str:
    bad = _tiny_request(3, start=(1 << 64) - 1)
    with ThreadPoolExecutor(16) as pool:
        innocent = pool.map(lambda i: t.post(make_request(2000 + i))[0], range(40))
        bad_answers = list(pool.map(lambda _: t.post(bad), range(10)))
        innocent_list = list(innocent)
    rejected = {ExportTraceServiceResponse.FromString(b).partial_success.rejected_spans
                for s, b in bad_answers if s == 200}
    return (f"start time 2^64-1 ×10: {_statuses([s for s, _ in bad_answers])} (rejected_spans {rejected}); "
            f"40 innocent neighbours: {_statuses(innocent_list)}")


def grpc_overload(t: Target) -> str:
    channel = grpc.insecure_channel(f"{HOST}:{t.grpc_port}")
    export = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
    bodies = [make_request(3000 + i) for i in range(64)]

    def call(body: bytes) -> str:
        try:
            export(body, timeout=60)
            return "OK"
        except grpc.RpcError as exc:
            return exc.code().name  # type: ignore[no-any-return]

    with ThreadPoolExecutor(64) as pool:
        codes = list(pool.map(call, bodies))
    channel.close()
    return f"64 concurrent gRPC exports: {_statuses(codes)}"  # type: ignore[arg-type]


def other_signals_and_rest(t: Target) -> str:
    logs = t.post(b"", PROTOBUF, "/v1/logs")[0]
    metrics = t.post(b"", PROTOBUF, "/v1/metrics")[0]
    deep = t.post(b"[" * 100_000 + b"]" * 100_000, {"Content-Type": "application/json"},
                  "/api/agents/meta-agent")[0]
    meta = t.post(json.dumps({"context": {"thoughts": "x"}, "requestContext": {"requestId": "r"}}).encode(),
                  {"Content-Type": "application/json"}, "/api/agents/meta-agent")[0]
    return f"/v1/logs {logs}, /v1/metrics {metrics}, REST body nested 100k deep {deep}, meta-agent POST {meta}"


def cli_refusals(db: Path, busy_port: int) -> str:
    def serve(*args: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "analyzers", "serve", "--db", str(db), *args],
                              check=False, capture_output=True, text=True, timeout=60)
        line = [x for x in proc.stderr.splitlines() if x.startswith("otel-meta")]
        return f"exit {proc.returncode}: {line[0][:70] if line else proc.stderr[-200:]!r}..."

    return (f"HTTP port in use → {serve('--http-port', str(busy_port), '--grpc-port', '0')}; "
            f"--host 0.0.0.0 without a token → {serve('--host', '0.0.0.0', '--http-port', '0', '--grpc-port', '0')}")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        target = Target(Path(tmp, "redteam.db"))
        print(f"otel-meta serve pid {target.proc.pid} on {HOST}:{target.http_port} (gRPC {target.grpc_port}); "
              f"peak RSS at start {target.peak_rss_mb():.0f} MB")
        try:
            for attack in (slow_bodies, slow_headers, gzip_members, huge_requests, out_of_range, grpc_overload,
                           other_signals_and_rest):
                t0 = time.monotonic()
                result = attack(target)
                print(f"- {attack.__name__} ({time.monotonic() - t0:.0f} s): {result}; "
                      f"server peak RSS {target.peak_rss_mb():.0f} MB")
            assert target.proc.poll() is None, "the server died"
            print(f"- cli: {cli_refusals(Path(tmp, 'other.db'), target.http_port)}")
        finally:
            target.stop()
        print(f"server exit code after SIGTERM: {target.proc.returncode}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
