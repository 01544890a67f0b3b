"""The ``Store`` contract (``analyzers.store.base``), run against SQLite and a real PostgreSQL server."""

from __future__ import annotations

import math
import threading

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from analyzers.assembly import RunAssembler
from analyzers.errors import SpanValueError
from analyzers.model import Assessment, EvaluationRecord, SpanRecord
from analyzers.store import open_store
from analyzers.store.base import AssembledRun, Store
from analyzers.store.exporter import StoreSpanExporter
from otel_meta import semconv as sc


def agent_span(trace_id: str, agent: str, start_s: int, outcome: str | None = "success") -> SpanRecord:
    attrs = {sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: agent, "blob": b"\x00\xff"}
    if outcome:
        attrs[sc.OTEL_META_OUTCOME] = outcome
    return SpanRecord(trace_id, "1" * 16, None, f"invoke_agent {agent}", 1, start_s * 10**9, start_s * 10**9 + 10**6,
                      attrs, resource_attributes={"service.name": "s"})


def tool_span(trace_id: str, span_id: str, tool: str, start_s: int, **attrs: object) -> SpanRecord:
    return SpanRecord(trace_id, span_id, "1" * 16, f"execute_tool {tool}", 1, start_s * 10**9 + 1,
                      start_s * 10**9 + 2, {sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL,
                                            sc.GEN_AI_TOOL_NAME: tool, **attrs})


def assemble(store: Store) -> RunAssembler:
    assembler = RunAssembler(store)
    assembler.assemble_pending()
    return assembler


def test_spans_round_trip_as_they_came_and_duplicates_are_ignored(any_store):
    strange = tool_span("a" * 32, "2" * 16, "t", 1, **{
        sc.OTEL_META_REASONING_CHARS: math.inf, "neg": -math.inf, "user_map": {"$bytes": "abc"},
        "map": {"$map": [1]}, "nul": "a\x00b"})
    span = agent_span("a" * 32, "x", 1)
    named = SpanRecord("a" * 32, "3" * 16, "1" * 16, "odd\x00name", 1, 5, 6, {}, status_message="m\x00")
    assert any_store.write_spans([span, strange, named]) == 3
    assert any_store.write_spans([span]) == 0
    stored = {s.span_id: s for s in any_store.spans_for_trace("a" * 32)}
    assert stored == {"1" * 16: span, "2" * 16: strange, "3" * 16: named}
    assert any_store.count_spans() == 3


def test_reads_never_write_and_assembly_is_an_explicit_step(any_store):
    any_store.write_spans([agent_span("b" * 32, "x", 1)])
    assert any_store.get_run("b" * 32) is None and any_store.list_runs() == []
    assert [t.trace_id for t in any_store.dirty_traces(10)] == ["b" * 32]  # the reads left it dirty
    assemble(any_store)
    assert any_store.get_run("b" * 32).agent == "x" and any_store.dirty_traces(10) == []


def test_a_trace_marked_again_during_assembly_keeps_its_mark(any_store):
    any_store.write_spans([agent_span("c" * 32, "x", 1)])
    [seen] = any_store.dirty_traces(10)
    any_store.write_spans([tool_span("c" * 32, "2" * 16, "late", 1)])  # e.g. on another replica
    assert any_store.save_runs([AssembledRun(seen, None)]) == 0
    assert [t.trace_id for t in any_store.dirty_traces(10)] == ["c" * 32]
    assemble(any_store)
    assert any_store.get_run("c" * 32).tool_names() == ["late"]


def test_one_unreadable_span_degrades_its_run_and_stops_nothing(any_store):
    any_store.write_spans([agent_span("d" * 32, "x", 1),
                           tool_span("d" * 32, "2" * 16, "bad", 1, **{sc.OTEL_META_REASONING_CHARS: math.inf}),
                           tool_span("d" * 32, "3" * 16, "good", 2),
                           agent_span("e" * 32, "y", 3)])
    assembler = assemble(any_store)
    assert any_store.dirty_traces(10) == []
    assert any_store.get_run("e" * 32).agent == "y"
    run = any_store.get_run("d" * 32)
    assert run.agent == "x" and "good" in run.tool_names()
    assert assembler.errors == (0 if "bad" in run.tool_names() else 1)


def test_runs_filters_order_and_streaming(any_store):
    for i, (agent, outcome) in enumerate([("a", "success"), ("b", None), ("a", "failure"), ("a", None)]):
        any_store.write_spans([agent_span(f"{i:032x}", agent, 100 + i, outcome)])
    any_store.write_spans([tool_span("f" * 32, "2" * 16, "orphan", 99)])  # no root span yet: pending
    assemble(any_store)
    assert [r.trace_id[-1] for r in any_store.list_runs()] == ["3", "2", "1", "0"]
    assert [r.trace_id[-1] for r in any_store.list_runs(include_pending=True)] == ["3", "2", "1", "0", "f"]
    assert [r.trace_id[-1] for r in any_store.list_runs("a", 2)] == ["3", "2"]
    assert [r.trace_id[-1] for r in any_store.list_runs("a", with_outcome=True)] == ["2", "0"]
    assert [r.trace_id[-1] for r in any_store.list_runs(since_unix_nano=102 * 10**9)] == ["3", "2"]
    assert [r.trace_id[-1] for r in any_store.iter_runs("a")] == ["0", "2", "3"]
    assert any_store.agents() == ["a", "b", "unknown"] and any_store.count_runs("a") == 3 and any_store.count_runs() == 4
    assert any_store.count_runs(since_unix_nano=103 * 10**9) == 1


def test_iter_runs_streams_more_than_one_batch_in_order(any_store):
    spans = [agent_span(f"{i:032x}", "many", 1000 + i // 3) for i in range(2500)]
    any_store.write_spans(spans)
    assemble(any_store)
    ids = [r.trace_id for r in any_store.iter_runs("many")]
    assert ids == [s.trace_id for s in spans]


def test_iter_runs_pages_in_batches_and_sees_runs_stored_after_its_cursor(any_store):
    spans = [agent_span(f"{i:032x}", "paged", 1000 + i // 4) for i in range(30)]  # ties in start time
    any_store.write_spans(spans)
    assemble(any_store)
    expected = [s.trace_id for s in spans]
    for batch in (1, 4, 7, 30, 31):
        assert [r.trace_id for r in any_store.iter_runs("paged", batch=batch)] == expected
    with pytest.raises(ValueError, match="batch must be >= 1"):
        any_store.iter_runs("paged", batch=0)
    runs = iter(any_store.iter_runs("paged", batch=5))
    first = [next(runs).trace_id for _ in range(5)]  # one page read, the iterator suspended after it
    any_store.write_spans([agent_span("e" * 32, "paged", 5000), agent_span("0" * 31 + "f", "paged", 1)])
    assemble(any_store)  # the writer was not blocked by the suspended iteration
    rest = [r.trace_id for r in runs]
    assert first + rest == expected + ["e" * 32]  # the late run sorts after the cursor, the early one before


def test_api_outcome_overrides_and_is_upserted_once(any_store):
    tid = "1" * 32
    any_store.write_spans([agent_span(tid, "x", 1, "failure")])
    assemble(any_store)
    assert any_store.get_run(tid).outcome_source == "span"
    assert any_store.set_outcome(tid, True, "first") and any_store.set_outcome(tid, True, "done")
    run = any_store.get_run(tid)
    assert (run.outcome, run.outcome_source, any_store.submission(tid)) == (True, "api", "done")
    any_store.write_spans([tool_span(tid, "2" * 16, "late", 1)])
    assemble(any_store)
    assert (any_store.get_run(tid).outcome, any_store.get_run(tid).outcome_source) == (True, "api")
    assert not any_store.set_outcome("f" * 32, True)


def test_evaluations_are_stored_once_and_mark_their_trace(any_store):
    tid = "2" * 32
    any_store.write_spans([agent_span(tid, "x", 1, None)])
    assemble(any_store)
    record = EvaluationRecord(tid, "1" * 16, "task_success", 1.0, "pass", "ok", 5, {"k": [1, 2]})
    assert any_store.write_evaluations([record, record]) == 1
    assert any_store.write_evaluations([record]) == 0
    assert any_store.evaluations_for_trace(tid) == [record]
    assert [t.trace_id for t in any_store.dirty_traces(10)] == [tid]
    assert any_store.trace_inputs([tid])[tid].evaluations == [record]


def test_out_of_range_values_are_refused_before_anything_is_written(any_store):
    bad = SpanRecord("3" * 32, "1" * 16, None, "s", 1, 2**64 - 1, 2**64 - 1, {})
    with pytest.raises(SpanValueError, match="over 2\\^63-1"):
        any_store.write_spans([agent_span("4" * 32, "x", 1), bad])
    assert any_store.count_spans() == 0 and any_store.dirty_traces(10) == []


def test_assessments_upsert_filter_and_order(any_store):
    def a(rid: str, q: float, ts: str, agent: str = "meta-agent") -> Assessment:
        return Assessment(rid, q, q < 0.4, q < 0.6, ("act",), "text", ts, agent_name=agent,
                          trace_id="t", request_context={"k": 1})
    any_store.save_assessment(a("r1", 0.9, "2025-01-01T00:00:00Z"))
    any_store.save_assessment(a("r2", 0.3, "2025-01-02T00:00:00+00:00"))
    any_store.save_assessment(a("r1", 0.5, "2025-01-03T00:00:00.000Z"))
    any_store.save_assessment(a("r1", 0.7, "2025-01-01T12:00:00Z", agent="other"))
    assert any_store.get_assessment("r1").reasoning_quality == 0.5
    assert any_store.get_assessment("r1", "other").request_context == {"k": 1}
    assert any_store.get_assessment("nope") is None
    assert [(x.request_id, x.agent_name) for x in any_store.list_assessments()] == [
        ("r1", "meta-agent"), ("r2", "meta-agent"), ("r1", "other")]
    assert [x.request_id for x in any_store.list_assessments(should_replan=True)] == ["r2"]
    assert [x.reasoning_quality for x in any_store.list_assessments(min_quality=0.5, max_quality=0.7)] == [0.5, 0.7]
    assert [x.request_id for x in any_store.list_assessments(should_deepen=False)] == ["r1"]
    assert len(any_store.list_assessments(start="2025-01-02T00:00:00Z", end="2025-01-03T00:00:00Z")) == 2


@pytest.mark.parametrize("quality", [0.123456789, 0.66666666, 0.55555, 0.99995, 0.00004])
def test_a_returned_quality_selects_its_assessment(any_store, quality):
    """Stored values carry more digits than the API returns; filtering on a returned value finds it."""
    any_store.save_assessment(Assessment("r", quality, False, False, (), "t", "2025-01-01T00:00:00Z"))
    returned = any_store.list_assessments()[0].to_json()["reasoningQuality"]
    assert len(any_store.list_assessments(min_quality=returned)) == 1
    assert len(any_store.list_assessments(max_quality=returned)) == 1
    assert len(any_store.list_assessments(min_quality=returned, max_quality=returned)) == 1
    assert any_store.list_assessments(min_quality=returned + 1e-4) == []
    assert any_store.list_assessments(max_quality=returned - 1e-4) == []


def test_a_second_store_on_the_same_database_sees_the_runs(any_store, store_url):
    any_store.write_spans([agent_span("c" * 32, "z", 5)])
    with open_store(store_url) as other:
        assemble(other)
        assert any_store.get_run("c" * 32).agent == "z"


def test_store_span_exporter_commits_and_assembles_sdk_spans(any_store):
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(StoreSpanExporter(any_store)))
    tracer = provider.get_tracer("embedded")
    with tracer.start_as_current_span("invoke_agent emb", attributes={
            sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: "emb"}) as root, \
            tracer.start_as_current_span("execute_tool t", attributes={
                sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL, "tags": ("x", "y")}):
        pass
    provider.shutdown()
    trace_id = format(root.get_span_context().trace_id, "032x")
    run = any_store.get_run(trace_id)
    assert run.agent == "emb" and [s.name for s in run.steps] == ["t"]
    tool = next(s for s in any_store.spans_for_trace(trace_id) if s.name == "execute_tool t")
    assert tool.attributes["tags"] == ["x", "y"] and tool.kind == 1 and tool.scope_name == "embedded"


def test_health_and_the_learning_lock(any_store):
    assert any_store.health() is None and any_store.healthy()
    got: list[bool] = []
    with any_store.learning_lock("agent-a") as first:
        thread = threading.Thread(target=lambda: got.append(_try_lock(any_store, "agent-a")))
        thread.start()
        thread.join()
        with any_store.learning_lock("agent-b") as other:
            assert first and other
    assert got == [False]
    with any_store.learning_lock("agent-a") as again:
        assert again
    any_store.close()
    assert "closed" in any_store.health()


def _try_lock(store: Store, name: str) -> bool:
    with store.learning_lock(name) as got:
        return got
