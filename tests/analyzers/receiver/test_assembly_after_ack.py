"""Runs are assembled after the acknowledgement: a read after an ack still sees its run (the read
barrier), a dead assembler stops no ingest and /healthz names it, and another process reading the store
file sees the run once it is assembled."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from analyzers.receiver.server import AnalyzerServer
from analyzers.store.base import TraceInputs
from analyzers.store.sqlite import SqliteStore
from tests.analyzers.receiver import payloads as p
from tests.analyzers.receiver.test_bad_input import PROTOBUF, post
from tests.analyzers.receiver.test_cli import post as post_to_port
from tests.analyzers.receiver.test_cli import start_serve
from tests.analyzers.receiver.test_runs_api import get


def _load_body() -> bytes:
    spans = []
    for _ in range(16):
        trace_id = p.new_trace_id()
        spans += [p.agent_span(trace_id, "load"), *(p.tool_span(trace_id, i, "t", i) for i in range(2, 6))]
    return p.body(*spans)


def test_a_read_right_after_an_ack_sees_its_run_while_load_defers_assembly(server, store):
    stop = threading.Event()
    body = _load_body()  # the same spans again and again: deduplicated, yet each commit counts as load

    def load() -> None:
        while not stop.is_set():
            assert post(server, body, PROTOBUF)[0] == 200

    senders = [threading.Thread(target=load) for _ in range(2)]
    for t in senders:
        t.start()
    try:
        deadline = time.monotonic() + 30
        while server.ingest.assembly.backlog == 0:  # acknowledged, not yet assembled: assembly waits
            assert time.monotonic() < deadline, "assembly was never deferred under load"
            time.sleep(0.001)
        for _ in range(5):
            trace_id = p.new_trace_id()
            assert post(server, p.body(p.agent_span(trace_id, "mine"), p.tool_span(trace_id, 2, "ls", 1)),
                        PROTOBUF)[0] == 200
            status, run = get(server, f"/api/runs/{trace_id.hex()}")
            assert status == 200 and [s["name"] for s in run["steps"]] == ["ls"]
            assert trace_id.hex() in {r["trace_id"] for r in get(server, "/api/runs?agent=mine")[1]}
    finally:
        stop.set()
        for t in senders:
            t.join(30)


class _AssemblerKillingStore(SqliteStore):
    """A real store whose reads for assembly raise what no ``except Exception`` catches."""

    def trace_inputs(self, trace_ids: Sequence[str]) -> dict[str, TraceInputs]:
        raise SystemExit("the test kills the run assembler")


def test_a_dead_assembler_is_not_ready_with_its_reason_and_ingest_goes_on(tmp_path: Path):
    store = _AssemblerKillingStore(tmp_path / "a.db")
    try:
        with AnalyzerServer(store, grpc_port=None) as srv:
            first, second = p.new_trace_id(), p.new_trace_id()
            assert post(srv, p.body(p.agent_span(first)), PROTOBUF)[0] == 200
            assert srv.await_runs() is False  # it died assembling that trace: the barrier does not wait
            status, health = get(srv, "/healthz")
            assert status == 503 and health["reason"].startswith("the run assembler has stopped: SystemExit")
            assert post(srv, p.body(p.agent_span(second)), PROTOBUF)[0] == 200  # ack = committed still
            assert get(srv, "/api/runs")[0] == 200
            assert store.spans_for_trace(first.hex()) and store.spans_for_trace(second.hex())
    finally:
        store.close()
    with SqliteStore(tmp_path / "a.db") as healthy, AnalyzerServer(healthy, grpc_port=None) as srv:
        deadline = time.monotonic() + 30
        while len(get(srv, "/api/runs")[1]) < 2:  # the idle pass assembles what the dead one left dirty
            assert time.monotonic() < deadline, "the dirty traces were not assembled after the restart"
            time.sleep(0.05)


def test_another_process_sees_the_run_once_assembled(tmp_path: Path):
    db = tmp_path / "shared.db"
    proc, port = start_serve(db)
    try:
        trace_id = p.new_trace_id()
        assert post_to_port(port, p.body(p.agent_span(trace_id, "elsewhere"), p.tool_span(trace_id, 2, "ls", 1))) == 200
        deadline = time.monotonic() + 30
        while True:  # `otel-meta runs --db` beside the running serve: a separate reader of the file
            listed = subprocess.run([sys.executable, "-m", "analyzers", "runs", "--db", str(db), "--json"],
                                    capture_output=True, text=True, timeout=60, check=True)
            runs = json.loads(listed.stdout)
            if runs:
                break
            assert time.monotonic() < deadline, "the run never became visible to another process"
        assert [(r["trace_id"], r["agent"]) for r in runs] == [(trace_id.hex(), "elsewhere")]
    finally:
        proc.terminate()
        proc.wait(30)
        assert proc.stdout is not None
        proc.stdout.close()


def test_the_learning_cycle_beside_a_server_waits_for_the_runs_it_acknowledged(tmp_path: Path):
    from analyzers.api.context import ServiceContext
    from analyzers.orchestrator.config import MetaAgentConfig
    from analyzers.orchestrator.meta_agent import MetaAgent

    config = MetaAgentConfig(db=str(tmp_path / "svc.db"), prompts_repo=str(tmp_path / "prompts"))
    with SqliteStore(tmp_path / "svc.db") as store:
        learner = MetaAgent(config, store=store, embedded=False)  # as serve --learn-every builds it
        context = ServiceContext(store=store, meta_agent=learner)
        with AnalyzerServer(store, grpc_port=None, context=context) as srv:
            trace_id = p.new_trace_id()
            assert post(srv, p.body(p.agent_span(trace_id, "learner"), p.tool_span(trace_id, 2, "ls", 1)),
                        PROTOBUF)[0] == 200
            learner.flush()  # what every learning cycle does first
            run = store.get_run(trace_id.hex())
            assert run is not None and [s.name for s in run.steps] == ["ls"]
        learner.close()


def test_a_read_right_after_start_sees_the_runs_of_spans_stored_before_it(tmp_path: Path):
    from tests.analyzers.assessor.test_rest import run_spans

    traces = [f"{i:032x}" for i in range(1, 301)]  # more than one idle pass assembles at a time
    with SqliteStore(tmp_path / "before.db") as store:
        store.write_spans([s for t in traces for s in run_spans(t, [True, False])])  # stored, not assembled
        with AnalyzerServer(store, grpc_port=None) as srv:
            status, runs = get(srv, "/api/runs?limit=1000")
            assert status == 200 and sorted(r["trace_id"] for r in runs) == traces
