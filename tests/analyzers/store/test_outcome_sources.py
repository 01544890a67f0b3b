"""A run's outcome from each source, with the documented precedence api > span > evaluation."""

from __future__ import annotations

import sqlite3

from analyzers.assembly import RunAssembler
from analyzers.conventions import OutcomeRule, assemble_run
from analyzers.model import EvaluationRecord, SpanEvent, SpanRecord
from analyzers.store._schema import MIGRATIONS, SCHEMA_VERSION
from analyzers.store.base import Store
from analyzers.store.sqlite import SqliteStore
from otel_meta import semconv as sc

TRACE = "ab" * 16


def agent_span(outcome: str | None = None, events: tuple[SpanEvent, ...] = ()) -> SpanRecord:
    attrs = {sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: "triage"}
    if outcome:
        attrs[sc.OTEL_META_OUTCOME] = outcome
    return SpanRecord(TRACE, "1" * 16, None, "invoke_agent triage", 1, 10**9, 2 * 10**9, attrs, events=events)


def evaluation(label: str | None, *, name: str = "task_success", score: float | None = None,
               at: int = 3 * 10**9, span_id: str | None = "1" * 16) -> EvaluationRecord:
    attrs = {sc.GEN_AI_EVALUATION_NAME: name}
    return EvaluationRecord(TRACE, span_id, name, score, label, None, at, attrs)


def test_store_evaluation_records_give_the_outcome_when_nothing_else_does(any_store: Store):
    store = any_store
    store.write_spans([agent_span()])
    RunAssembler(store).assemble_pending()
    assert store.get_run(TRACE).outcome is None
    assert store.write_evaluations([evaluation("fail")]) == 1
    assert store.write_evaluations([evaluation("fail")]) == 0  # an exporter's retry
    RunAssembler(store).assemble_pending()
    run = store.get_run(TRACE)
    assert (run.outcome, run.outcome_source) == (False, "evaluation")
    assert store.evaluations_for_trace(TRACE) == [evaluation("fail")]


def test_store_precedence_is_api_then_span_then_evaluation(any_store: Store):
    store = any_store
    store.write_spans([agent_span("success")])
    store.write_evaluations([evaluation("fail")])
    RunAssembler(store).assemble_pending()
    run = store.get_run(TRACE)
    assert (run.outcome, run.outcome_source) == (True, "span")
    assert store.set_outcome(TRACE, False, "CI red")
    run = store.get_run(TRACE)
    assert (run.outcome, run.outcome_source) == (False, "api")
    store.write_evaluations([evaluation("pass", at=9 * 10**9)])  # re-assembly keeps the api outcome
    RunAssembler(store).assemble_pending()
    run = store.get_run(TRACE)
    assert (run.outcome, run.outcome_source) == (False, "api")
    assert run.to_json()["outcome_source"] == "api"


def test_assemble_reads_span_events_and_never_the_judges_own_verdict():
    judge = SpanEvent(sc.EVENT_EVALUATION_RESULT, 5, {sc.GEN_AI_EVALUATION_NAME: sc.EVALUATION_REASONING_QUALITY,
                                                      sc.GEN_AI_EVALUATION_SCORE_LABEL: "fail"})
    assert assemble_run([agent_span(events=(judge,))]).outcome is None
    graded = SpanEvent(sc.EVENT_EVALUATION_RESULT, 6, {sc.GEN_AI_EVALUATION_NAME: "grader",
                                                       sc.GEN_AI_EVALUATION_SCORE_VALUE: 0.9})
    run = assemble_run([agent_span(events=(judge, graded))], rule=OutcomeRule(names=("grader",), threshold=0.8))
    assert (run.outcome, run.outcome_source) == (True, "evaluation")
    assert assemble_run([agent_span(events=(graded,))], rule=OutcomeRule(threshold=0.95)).outcome is False


def test_assemble_latest_mapped_record_wins():
    records = [evaluation("pass", at=5), evaluation("fail", at=9), evaluation("unsure", at=12)]
    run = assemble_run([agent_span()], evaluations=records)
    assert (run.outcome, run.outcome_source) == (False, "evaluation")


def test_store_schema_1_file_migrates_with_outcome_sources(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)  # a file written by the schema-1 otel-meta
    conn.executescript(MIGRATIONS[0] + "; PRAGMA user_version=1;")
    run_row = "INSERT INTO runs VALUES (?, 'triage', ?, 1, 1.0, '[]', NULL, NULL, NULL, NULL, 1)"
    conn.execute(run_row, ("1" * 32, 1))
    conn.execute(run_row, ("2" * 32, 0))
    conn.execute(run_row, ("3" * 32, None))
    conn.execute("INSERT INTO outcomes VALUES (?, 0, NULL, 1)", ("2" * 32,))
    conn.close()
    store = SqliteStore(path)
    assert store.schema_version == SCHEMA_VERSION
    sources = {r.trace_id[0]: r.outcome_source for r in store.list_runs()}
    assert sources == {"1": "span", "2": "api", "3": None}
    store.close()
