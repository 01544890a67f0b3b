"""Ingest throughput: spans/s accepted over OTLP/HTTP protobuf, against the raw ceiling.

The ceiling is measured in the same run: protobuf parse + decode + batched, durable SQLite insert of the
same requests, with no HTTP. The served figure: several concurrent clients POST pre-encoded requests of
512 spans each to a real ``AnalyzerServer`` (a 2xx means committed with ``synchronous=FULL``). Each span
looks like an agent's: GenAI attributes, a resource and a scope. Prints peak RSS of this process (server
and clients live in it; the clients only send bytes).

The two measurements alternate ``--repeat`` times, each on a fresh database, and the best of each is
compared: on a shared 2-core machine a neighbour's burst would otherwise decide the ratio. The ceiling is
serial (parse, then insert); the server overlaps parsing with the writer's commits (SQLite releases the
GIL), so the ratio can exceed 1.

    python benchmarks/ingest.py [--requests 120] [--clients 4] [--repeat 3]
"""

from __future__ import annotations

import argparse
import http.client
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from analyzers.receiver import otlp
from analyzers.receiver.server import AnalyzerServer
from analyzers.store.sqlite import SqliteStore
from otel_meta import semconv as sc

BATCH = 512


def _kv(key: str, value: object) -> KeyValue:
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def make_request(seed: int) -> bytes:
    """One OTLP request of ``BATCH`` spans: 32 traces of 16 spans (agent, tools, LLM calls)."""
    spans = []
    t0 = 1_700_000_000_000_000_000 + seed * 10_000_000
    for t in range(BATCH // 16):
        trace_id = (seed * 1000 + t + 1).to_bytes(16, "big")
        root = (seed * 100_000 + t * 100 + 1).to_bytes(8, "big")
        for i in range(16):
            span_id = (seed * 100_000 + t * 100 + i + 1).to_bytes(8, "big")
            if i == 0:
                attrs = [_kv(sc.GEN_AI_OPERATION_NAME, sc.OP_INVOKE_AGENT), _kv(sc.GEN_AI_AGENT_NAME, "bench"),
                         _kv(sc.OTEL_META_OUTCOME, "success"), _kv(sc.OTEL_META_PROMPT_VERSION, "1.0.0")]
                name, parent = "invoke_agent bench", b""
            elif i % 3 == 0:
                attrs = [_kv(sc.GEN_AI_OPERATION_NAME, sc.OP_CHAT), _kv(sc.GEN_AI_PROVIDER_NAME, "openai"),
                         _kv(sc.GEN_AI_REQUEST_MODEL, "gpt-4o-mini"), _kv(sc.GEN_AI_USAGE_INPUT_TOKENS, 812),
                         _kv(sc.GEN_AI_USAGE_OUTPUT_TOKENS, 95), _kv(sc.SERVER_ADDRESS, "api.openai.com")]
                name, parent = "chat gpt-4o-mini", root
            else:
                attrs = [_kv(sc.GEN_AI_OPERATION_NAME, sc.OP_EXECUTE_TOOL), _kv(sc.GEN_AI_TOOL_NAME, f"tool_{i % 5}"),
                         _kv(sc.GEN_AI_TOOL_CALL_ID, f"call_{seed}_{t}_{i}"), _kv(sc.GEN_AI_TOOL_TYPE, "function")]
                name, parent = f"execute_tool tool_{i % 5}", root
            start = t0 + t * 1_000_000 + i * 1000
            spans.append(Span(trace_id=trace_id, span_id=span_id, parent_span_id=parent, name=name, kind=Span.SPAN_KIND_INTERNAL,
                              start_time_unix_nano=start, end_time_unix_nano=start + 900, attributes=attrs))
    req = ExportTraceServiceRequest(resource_spans=[ResourceSpans(
        resource=Resource(attributes=[_kv(sc.SERVICE_NAME, "bench-agent"), _kv("telemetry.sdk.language", "python")]),
        scope_spans=[ScopeSpans(scope=InstrumentationScope(name="otel_meta", version="0.1.0"), spans=spans)],
    )])
    return req.SerializeToString()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ceiling(bodies: list[bytes], db: Path) -> float:
    store = SqliteStore(db)
    t = time.perf_counter()
    for i in range(0, len(bodies), 4):  # group commit of 4 requests, as the server does under load
        spans = []
        for body in bodies[i:i + 4]:
            spans.extend(otlp.decode_request(otlp.parse_protobuf(body)).spans)
        store.write_spans(spans)
    elapsed = time.perf_counter() - t
    store.close()
    return len(bodies) * BATCH / elapsed


def served(bodies: list[bytes], db: Path, clients: int) -> float:
    store = SqliteStore(db)
    server = AnalyzerServer(store, grpc_port=None).start()
    host, port = server.http_address
    chunks = [bodies[i::clients] for i in range(clients)]
    errors: list[str] = []

    def client(mine: list[bytes]) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=120)
        for body in mine:
            while True:
                conn.request("POST", "/v1/traces", body, {"Content-Type": "application/x-protobuf"})
                resp = conn.getresponse()
                resp.read()
                if resp.status == 200:
                    break
                if resp.status not in (429, 503):
                    errors.append(f"HTTP {resp.status}")
                    return
                time.sleep(0.05)
        conn.close()

    threads = [threading.Thread(target=client, args=(c,)) for c in chunks]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t
    server.stop()
    stored = store.count_spans()
    store.close()
    if errors or stored != len(bodies) * BATCH:
        raise SystemExit(f"benchmark failed: errors={errors[:3]} stored={stored}")
    return len(bodies) * BATCH / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=120, help="requests of 512 spans per measurement")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients")
    parser.add_argument("--repeat", type=int, default=3, help="alternating measurements of each (best counts)")
    args = parser.parse_args()
    bodies = [make_request(i) for i in range(args.requests)]
    print(f"cores: {os.cpu_count()}  spans: {args.requests * BATCH} per measurement, batches of {BATCH}, "
          f"{args.clients} clients, synchronous=FULL, best of {args.repeat}")
    raws: list[float] = []
    rates: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            raws.append(ceiling(bodies, Path(tmp, f"ceiling-{i}.db")))
            rates.append(served(bodies, Path(tmp, f"served-{i}.db"), args.clients))
            print(f"  run {i + 1}: ceiling {raws[-1]:,.0f} spans/s, served {rates[-1]:,.0f} spans/s")
    raw, http_rate = max(raws), max(rates)
    ratio = http_rate / raw
    print(f"raw ceiling (protobuf parse + decode + batched SQLite insert): {raw:,.0f} spans/s")
    print(f"served over OTLP/HTTP protobuf:                               {http_rate:,.0f} spans/s")
    print(f"ratio served/ceiling: {ratio:.2f} (target >= 0.50); target >= 20,000 spans/s: "
          f"{'met' if http_rate >= 20_000 else 'NOT met'}")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
