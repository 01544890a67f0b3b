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

With ``--db postgresql://user@host:port/dbname`` both figures are measured on PostgreSQL instead: the
ceiling with ``PostgresStore``, the served rate with 1 and then 2 ``otel-meta serve`` replicas (separate
processes, clients split between them) on a fresh database created next to the one named (the user
needs CREATEDB; each is dropped afterwards).

    python benchmarks/ingest.py [--requests 120] [--clients 4] [--repeat 3] [--db postgresql://…]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from analyzers.receiver import otlp
from analyzers.receiver.server import AnalyzerServer
from analyzers.store import open_store
from analyzers.store.base import Store
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


def ceiling(bodies: list[bytes], db: str) -> float:
    store = open_store(db)
    t = time.perf_counter()
    for i in range(0, len(bodies), 4):  # group commit of 4 requests, as the server does under load
        spans = []
        for body in bodies[i:i + 4]:
            spans.extend(otlp.decode_request(otlp.parse_protobuf(body)).spans)
        store.write_spans(spans)
    elapsed = time.perf_counter() - t
    store.close()
    return len(bodies) * BATCH / elapsed


def send_all(bodies: list[bytes], addresses: list[tuple[str, int]], clients: int) -> tuple[float, list[str]]:
    """POST every body (retrying 429/503) from ``clients`` threads spread over ``addresses``; return the
    elapsed time and the errors."""
    chunks = [bodies[i::clients] for i in range(clients)]
    errors: list[str] = []

    def client(mine: list[bytes], host: str, port: int) -> None:
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

    threads = [threading.Thread(target=client, args=(c, *addresses[i % len(addresses)]))
               for i, c in enumerate(chunks)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return time.perf_counter() - t, errors


def _checked(bodies: list[bytes], store: Store, elapsed: float, errors: list[str]) -> float:
    stored = store.count_spans()
    store.close()
    if errors or stored != len(bodies) * BATCH:
        raise SystemExit(f"benchmark failed: errors={errors[:3]} stored={stored}")
    return len(bodies) * BATCH / elapsed


#: per served measurement: (acknowledged spans/s, seconds from the last ack until every run was assembled)
SERVED_RUNS: list[tuple[float, float]] = []


def served(bodies: list[bytes], db: str, clients: int) -> float:
    """The rate of one in-process ``AnalyzerServer`` (acknowledged spans/s); also records how long after
    the last acknowledgement the runs of all of them were assembled (``await_runs``)."""
    store = open_store(db)
    server = AnalyzerServer(store, grpc_port=None).start()
    elapsed, errors = send_all(bodies, [server.http_address], clients)
    t = time.perf_counter()
    assembled = server.await_runs(120)
    drain = time.perf_counter() - t
    runs = store.count_runs()
    server.stop()
    if not assembled or runs != len(bodies) * BATCH // 16:
        raise SystemExit(f"benchmark failed: {runs} runs assembled, want {len(bodies) * BATCH // 16}")
    rate = _checked(bodies, store, elapsed, errors)
    SERVED_RUNS.append((rate, drain))
    return rate


def served_by_replicas(bodies: list[bytes], db: str, clients: int, replicas: int) -> float:
    """The rate of ``replicas`` ``otel-meta serve`` processes on one database."""
    procs = [subprocess.Popen([sys.executable, "-m", "analyzers", "serve", "--db", db, "--http-port", "0",
                               "--grpc-port", "0"], stdout=subprocess.PIPE, text=True) for _ in range(replicas)]
    try:
        addresses = []
        for proc in procs:
            assert proc.stdout is not None
            found = re.search(r"http=([\d.]+):(\d+)", proc.stdout.readline())
            if not found:
                raise SystemExit("otel-meta serve did not start")
            addresses.append((found.group(1), int(found.group(2))))
        elapsed, errors = send_all(bodies, addresses, clients)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
            if proc.stdout is not None:
                proc.stdout.close()
    return _checked(bodies, open_store(db), elapsed, errors)


@contextmanager
def fresh_databases(db: str | None) -> Iterator[Callable[[], str]]:
    """Give a new empty database each call: an SQLite file in a temporary folder, or a PostgreSQL
    database created beside ``db`` (dropped afterwards)."""
    names = itertools.count()
    if db is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield lambda: str(Path(tmp, f"bench-{next(names)}.db"))
        return
    import psycopg

    created: list[str] = []
    base = db.rsplit("/", 1)[0]

    def new() -> str:
        name = f"otel_meta_bench_{os.getpid()}_{next(names)}"
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        created.append(name)
        return f"{base}/{name}"

    try:
        yield new
    finally:
        with psycopg.connect(db, autocommit=True) as conn:
            for name in created:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=120, help="requests of 512 spans per measurement")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients")
    parser.add_argument("--repeat", type=int, default=3, help="alternating measurements of each (best counts)")
    parser.add_argument("--db", default=None, metavar="postgresql://…",
                        help="measure on PostgreSQL (fresh databases next to this one) instead of SQLite")
    args = parser.parse_args()
    bodies = [make_request(i) for i in range(args.requests)]
    backend = "PostgreSQL" if args.db else "SQLite"
    print(f"cores: {os.cpu_count()}  spans: {args.requests * BATCH} per measurement, batches of {BATCH}, "
          f"{args.clients} clients, {backend}, best of {args.repeat}")
    measures: dict[str, Callable[[str], float]] = {
        "ceiling": lambda db: ceiling(bodies, db)}
    if args.db:
        measures["1 replica"] = lambda db: served_by_replicas(bodies, db, args.clients, 1)
        measures["2 replicas"] = lambda db: served_by_replicas(bodies, db, args.clients, 2)
    else:
        measures["served"] = lambda db: served(bodies, db, args.clients)
    best: dict[str, float] = dict.fromkeys(measures, 0.0)
    with fresh_databases(args.db) as new_database:
        for i in range(args.repeat):
            figures = {name: measure(new_database()) for name, measure in measures.items()}
            best = {name: max(best[name], rate) for name, rate in figures.items()}
            print(f"  run {i + 1}: " + ", ".join(f"{n} {r:,.0f} spans/s" for n, r in figures.items()))
    print(f"raw ceiling (protobuf parse + decode + batched {backend} insert): {best['ceiling']:,.0f} spans/s")
    for name in list(measures)[1:]:
        rate = best[name]
        print(f"{name} over OTLP/HTTP protobuf: {rate:,.0f} spans/s, ratio to the ceiling {rate / best['ceiling']:.2f}"
              f" (target >= 0.50); >= 20,000 spans/s: {'met' if rate >= 20_000 else 'NOT met'}")
    if SERVED_RUNS:
        rate, drain = max(SERVED_RUNS)
        spans = args.requests * BATCH
        print(f"runs assembled {drain:.2f} s after the last ack (best served run); spans/s from the first "
              f"request until every run was assembled: {spans / (spans / rate + drain):,.0f}")
    print(f"peak RSS of this process: {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
