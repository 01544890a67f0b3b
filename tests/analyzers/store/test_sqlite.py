"""SqliteStore on real files: schema, runs, outcomes, assessments, the SDK exporter."""

from __future__ import annotations

import sqlite3

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from analyzers.errors import StoreError
from analyzers.model import Assessment, SpanRecord
from analyzers.store.base import Store
from analyzers.store.exporter import StoreSpanExporter
from analyzers.store.sqlite import SqliteStore
from otel_meta import semconv as sc


def agent_span(trace_id: str, agent: str, start_s: int, outcome: str | None = "success") -> SpanRecord:
    attrs = {sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: agent, "blob": b"\x00\xff"}
    if outcome:
        attrs[sc.OTEL_META_OUTCOME] = outcome
    return SpanRecord(trace_id, "1" * 16, None, f"invoke_agent {agent}", 1, start_s * 10**9, start_s * 10**9 + 10**6,
                      attrs, resource_attributes={"service.name": "s"})


def test_schema_version_wal_and_full_sync(store):
    assert isinstance(store, Store) and store.schema_version == 2
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.execute("PRAGMA user_version=99")
    conn.commit()
    conn.close()
    store.close()
    with pytest.raises(StoreError, match="newer than this otel-meta"):
        SqliteStore(store.path)


def test_spans_round_trip_and_duplicates_are_ignored(store):
    span = agent_span("a" * 32, "x", 1)
    assert store.write_spans([span]) == 1
    assert store.write_spans([span]) == 0
    assert store.spans_for_trace("a" * 32) == [span]


def test_runs_filters_order_and_streaming(store):
    for i, (agent, outcome) in enumerate([("a", "success"), ("b", None), ("a", "failure"), ("a", None)]):
        store.write_spans([agent_span(f"{i:032x}", agent, 100 + i, outcome)])
    assert [r.trace_id[-1] for r in store.list_runs()] == ["3", "2", "1", "0"]
    assert [r.trace_id[-1] for r in store.list_runs("a", 2)] == ["3", "2"]
    assert [r.trace_id[-1] for r in store.list_runs("a", with_outcome=True)] == ["2", "0"]
    assert [r.trace_id[-1] for r in store.list_runs(since_unix_nano=102 * 10**9)] == ["3", "2"]
    assert [r.trace_id[-1] for r in store.iter_runs("a")] == ["0", "2", "3"]
    assert store.agents() == ["a", "b"] and store.count_runs("a") == 3 and store.count_runs() == 4
    assert store.set_outcome(f"{1:032x}", True, "done") and store.get_run(f"{1:032x}").outcome is True
    assert not store.set_outcome("f" * 32, True)


def test_runs_are_visible_from_a_second_store_on_the_same_file(store):
    store.write_spans([agent_span("c" * 32, "z", 5)])
    with SqliteStore(store.path) as other:
        assert other.get_run("c" * 32).agent == "z"


def test_assessments_upsert_filter_and_order(store):
    def a(rid: str, q: float, ts: str, agent: str = "meta-agent") -> Assessment:
        return Assessment(rid, q, q < 0.4, q < 0.6, ("act",), "text", ts, agent_name=agent,
                          trace_id="t", request_context={"k": 1})
    store.save_assessment(a("r1", 0.9, "2025-01-01T00:00:00Z"))
    store.save_assessment(a("r2", 0.3, "2025-01-02T00:00:00+00:00"))
    store.save_assessment(a("r1", 0.5, "2025-01-03T00:00:00.000Z"))
    store.save_assessment(a("r1", 0.7, "2025-01-01T12:00:00Z", agent="other"))
    assert store.get_assessment("r1").reasoning_quality == 0.5
    assert store.get_assessment("r1", "other").request_context == {"k": 1}
    assert store.get_assessment("nope") is None
    assert [(x.request_id, x.agent_name) for x in store.list_assessments()] == [
        ("r1", "meta-agent"), ("r2", "meta-agent"), ("r1", "other")]
    assert [x.request_id for x in store.list_assessments(should_replan=True)] == ["r2"]
    assert [x.reasoning_quality for x in store.list_assessments(min_quality=0.5, max_quality=0.7)] == [0.5, 0.7]
    assert [x.request_id for x in store.list_assessments(should_deepen=False)] == ["r1"]
    assert len(store.list_assessments(start="2025-01-02T00:00:00Z", end="2025-01-03T00:00:00Z")) == 2


def test_store_span_exporter_commits_sdk_spans(store):
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(StoreSpanExporter(store)))
    tracer = provider.get_tracer("embedded")
    with tracer.start_as_current_span("invoke_agent emb", attributes={
            sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: "emb"}) as root, \
            tracer.start_as_current_span("execute_tool t", attributes={
                sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL, "tags": ("x", "y")}):
        pass
    provider.shutdown()
    trace_id = format(root.get_span_context().trace_id, "032x")
    run = store.get_run(trace_id)
    assert run.agent == "emb" and [s.name for s in run.steps] == ["t"]
    tool = next(s for s in store.spans_for_trace(trace_id) if s.name == "execute_tool t")
    assert tool.attributes["tags"] == ["x", "y"] and tool.kind == 1 and tool.scope_name == "embedded"


def test_healthy_gives_up_on_a_file_another_writer_holds_and_recovers(store):
    """The health probe waits a bounded time for the write lock, not the store's 30 s busy timeout."""
    assert store.healthy()
    other = sqlite3.connect(store.path, timeout=0)
    other.execute("BEGIN IMMEDIATE")  # another process's writer holds the file
    try:
        assert store.healthy(timeout_s=0.1) is False
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.healthy()
    store.close()
    assert store.healthy() is False
