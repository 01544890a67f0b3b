"""Two ``otel-meta serve`` replicas on one PostgreSQL database, end to end.

The spans of the same traces are sent to both replicas, split by batch (as a Collector that restarted
would), and one replica is killed with SIGKILL under load; the batches it did not acknowledge are sent
to the other, as an exporter retries. Then every acknowledged span is stored, every run is whole, and
``runs``, ``patterns`` and ``learn`` answer the same whichever replica (or store client) is asked.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from analyzers.store.postgres import PostgresStore
from otel_meta import semconv as sc
from tests.analyzers.guidelines.traces import planted_runs

pytestmark = pytest.mark.slow

AGENT = "diagnosis"
N_RUNS = 60
BATCH_SPANS = 7


def recorded_spans() -> list[ReadableSpan]:
    """Finished SDK spans of ``N_RUNS`` planted runs (a good and a bad tool sequence)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({sc.SERVICE_NAME: "replica-test"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests.replicas")
    for spec in planted_runs(N_RUNS, version="1.0.0"):
        with tracer.start_as_current_span(f"invoke_agent {AGENT}", attributes={
                sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: AGENT,
                sc.OTEL_META_PROMPT_VERSION: "1.0.0"}) as root:
            for tool in spec.tools:
                with tracer.start_as_current_span(f"execute_tool {tool}", attributes={
                        sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL, sc.GEN_AI_TOOL_NAME: tool}):
                    pass
            root.set_attribute(sc.OTEL_META_OUTCOME, sc.OUTCOME_SUCCESS if spec.success else sc.OUTCOME_FAILURE)
            if not spec.success:
                root.set_status(Status(StatusCode.ERROR))
    provider.shutdown()
    return list(exporter.get_finished_spans())


class Replica:
    """One ``otel-meta serve`` process on ``db``."""

    def __init__(self, db: str, log: Path) -> None:
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "analyzers", "serve", "--db", db, "--http-port", "0", "--grpc-port", "0"],
            stdout=subprocess.PIPE, stderr=self.log, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        found = re.search(r"http=([\d.]+):(\d+)", line)
        assert found, f"serve did not start: {line!r}; see {log}"
        self.host, self.port = found.group(1), int(found.group(2))

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, body, {"Content-Type": "application/x-protobuf"} if body else {})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def get_json(self, path: str) -> object:
        status, data = self.request("GET", path)
        assert status == 200, (path, status, data)
        return json.loads(data)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        self.log.close()


def test_two_replicas_one_killed_under_load_agree_on_everything(postgres_url, tmp_path, capsys, monkeypatch):
    spans = recorded_spans()
    by_trace: dict[int, list[ReadableSpan]] = defaultdict(list)
    for s in spans:
        by_trace[s.context.trace_id].append(s)
    # every trace's spans are split over batches, and consecutive batches go to different replicas
    halves = [part for trace in by_trace.values() for part in (trace[::2], trace[1::2])]
    flat = [s for part in halves for s in part]
    batches = [flat[i:i + BATCH_SPANS] for i in range(0, len(flat), BATCH_SPANS)]
    a, b = Replica(postgres_url, tmp_path / "a.log"), Replica(postgres_url, tmp_path / "b.log")
    replicas = [a, b]
    acked: list[ReadableSpan] = []
    lock = threading.Lock()
    killed = threading.Event()

    def send(index_batch: tuple[int, list[ReadableSpan]]) -> None:
        index, batch = index_batch
        body = encode_spans(batch).SerializeToString()
        if index == len(batches) // 3:
            b.kill()  # kill -9 under load: requests in flight on B are lost or answered, never half-stored
            killed.set()
        for replica in ([replicas[index % 2], a] if index % 2 else [a]):
            try:
                status, _ = replica.request("POST", "/v1/traces", body)
            except OSError:
                continue  # the killed replica: the exporter retries on the other one
            if status == 200:
                with lock:
                    acked.extend(batch)
                return
        raise AssertionError(f"batch {index} was refused by every replica")

    try:
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(send, enumerate(batches)))
        assert killed.is_set() and len(acked) == len(spans)  # every batch acknowledged by some replica
        replicas[1].stop()
        b = replicas[1] = Replica(postgres_url, tmp_path / "b2.log")
        expected_tools = {format(t, "032x"): len(ss) - 1 for t, ss in by_trace.items()}
        deadline = time.monotonic() + 60
        while True:  # assembly of what the killed replica left dirty happens on the live replicas
            runs = {r["trace_id"]: r for r in a.get_json("/api/runs?limit=1000")}  # type: ignore[union-attr]
            whole = {t for t, r in runs.items() if len(r["steps"]) == expected_tools.get(t)}
            if whole == set(expected_tools) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert whole == set(expected_tools)
        with PostgresStore(postgres_url) as store:
            stored = {(s.trace_id, s.span_id) for t in expected_tools for s in store.spans_for_trace(t)}
        assert {(format(s.context.trace_id, "032x"), format(s.context.span_id, "016x")) for s in acked} <= stored
        assert a.get_json("/api/runs?limit=1000") == b.get_json("/api/runs?limit=1000")
        patterns = a.get_json(f"/api/patterns?agent={AGENT}")
        assert patterns and patterns == b.get_json(f"/api/patterns?agent={AGENT}")
    finally:
        for replica in replicas:
            replica.stop()
    first = learn_report(postgres_url, tmp_path / "r1", capsys, monkeypatch)
    assert first == learn_report(postgres_url, tmp_path / "r2", capsys, monkeypatch)


def learn_report(db: str, repo: Path, capsys: pytest.CaptureFixture[str],
                 monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    """What ``otel-meta learn`` applies for the agent, from a fresh prompts repo (and its own state file,
    not the default ``<dbname>.state.json`` in the working directory)."""
    from tests.support.cli import cli

    monkeypatch.setenv("META_AGENT_STATE_FILE", str(repo.with_suffix(".state.json")))
    base = repo.with_suffix(".txt")
    base.write_text("You are an SRE agent.\n")
    assert cli(capsys, "prompts", "init", str(repo))[0] == 0
    assert cli(capsys, "prompts", "add-agent", str(repo), AGENT, "--base-prompt-file", str(base))[0] == 0
    code, out, err = cli(capsys, "learn", "--db", db, "--prompts-repo", str(repo), "--json")
    assert code == 0, err
    [agent] = json.loads(out)["agents"]
    assert agent["applied"] and agent["runs_analysed"] == N_RUNS
    return list(agent["applied"])
