"""Runs grouped by ``gen_ai.conversation.id`` across traces: the store's index, assembly, outcomes,
replicas and the migration, on SQLite and a real PostgreSQL server (the ``Store`` contract)."""

from __future__ import annotations

import math
import sqlite3
import threading

import psycopg

from analyzers.assembly import RunAssembler
from analyzers.conventions import assemble_conversation
from analyzers.model import EvaluationRecord, SpanRecord
from analyzers.store import _codec, _pg_schema, _schema, open_store
from analyzers.store.base import AssembledConversation, Store
from analyzers.store.postgres import PostgresStore
from analyzers.store.sqlite import SqliteStore
from otel_meta import semconv as sc

S = 10**9
RESOURCE = {sc.SERVICE_NAME: "chat-svc"}


def tid(n: int) -> str:
    return f"{n:032x}"


def call(trace: int, start_s: int, conversation: str | None = "conv-a", *, span: str = "1" * 16,
         parent: str | None = None, model: str = "gpt-4o-mini", failed: bool = False) -> SpanRecord:
    """A chat span as openai-v2 records it (a root of its own trace unless ``parent`` is given)."""
    attrs: dict[str, object] = {sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT, sc.GEN_AI_REQUEST_MODEL: model}
    if conversation is not None:
        attrs[sc.GEN_AI_CONVERSATION_ID] = conversation
    if failed:
        attrs[sc.ERROR_TYPE] = "BadRequestError"
    return SpanRecord(tid(trace), span, parent, f"chat {model}", 3, start_s * S, start_s * S + S // 2, attrs,
                      status_code=2 if failed else 0, resource_attributes=RESOURCE)


def tool(trace: int, start_s: int, name: str, parent: str | None = None) -> SpanRecord:
    return SpanRecord(tid(trace), "2" * 16, parent, f"execute_tool {name}", 1, start_s * S + 1, start_s * S + 2,
                      {sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL, sc.GEN_AI_TOOL_NAME: name},
                      resource_attributes=RESOURCE)


def agent(trace: int, start_s: int, parent: str | None = None, conversation: str | None = None) -> SpanRecord:
    attrs: dict[str, object] = {sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: "helper"}
    if conversation is not None:
        attrs[sc.GEN_AI_CONVERSATION_ID] = conversation
    return SpanRecord(tid(trace), "3" * 16, parent, "invoke_agent helper", 1, start_s * S, start_s * S + 3 * S,
                      attrs, resource_attributes=RESOURCE)


def assemble(store: Store) -> RunAssembler:
    assembler = RunAssembler(store)
    assembler.assemble_pending()
    assert store.dirty_traces(10) == []
    return assembler


def test_the_calls_of_one_conversation_are_one_run_keyed_by_its_first_trace(any_store):
    any_store.write_spans([call(2, 20), call(1, 10), call(3, 30, model="gpt-4o"),  # conv-a, in any order
                           call(7, 15, "conv-b"), call(9, 40, None)])  # another conversation; a lone call
    assembler = assemble(any_store)
    runs = any_store.list_runs()  # newest first
    assert [(r.trace_id, r.conversation_id, r.trace_ids) for r in runs] == [
        (tid(7), "conv-b", (tid(7),)), (tid(1), "conv-a", (tid(1), tid(2), tid(3)))]
    run = runs[1]
    assert [(s.kind, s.name) for s in run.steps] == [("llm", "gpt-4o-mini"), ("llm", "gpt-4o-mini"), ("llm", "gpt-4o")]
    assert (run.agent, run.outcome, run.complete, run.started_at_unix_nano) == ("chat-svc", None, True, 10 * S)
    assert run.duration_ms == 20_500.0
    for member in (1, 2, 3):  # every trace of the run finds it (evidence ids, the REST API)
        assert any_store.get_run(tid(member)) == run
    assert any_store.get_run(tid(9)) is None and assembler.errors == 0
    assert run.to_json()["trace_ids"] == [tid(1), tid(2), tid(3)]


def test_a_late_call_reassembles_the_run_and_an_earlier_one_moves_its_key(any_store):
    any_store.write_spans([call(2, 20), call(3, 30)])
    assemble(any_store)
    assert any_store.get_run(tid(3)).trace_ids == (tid(2), tid(3))
    any_store.write_spans([call(4, 40, failed=True)])  # a late call
    assemble(any_store)
    assert [s.ok for s in any_store.get_run(tid(2)).steps] == [True, True, False]
    any_store.write_spans([call(1, 10)])  # a call that started first but arrived last
    assemble(any_store)
    [run] = any_store.list_runs()
    assert (run.trace_id, run.trace_ids) == (tid(1), (tid(1), tid(2), tid(3), tid(4)))
    assert any_store.get_run(tid(2)) == run and any_store.count_runs() == 1


def test_agentless_traces_with_tools_join_and_a_trace_with_an_agent_span_keeps_its_own_run(any_store):
    any_store.write_spans([call(1, 10, span="a" * 16), tool(1, 11, "search"),  # a turn without agent span
                           call(2, 20),
                           agent(5, 25, conversation="conv-a"), call(5, 26, span="b" * 16, parent="3" * 16)])
    assemble(any_store)
    runs = {r.trace_id: r for r in any_store.list_runs()}
    assert set(runs) == {tid(1), tid(5)}  # no service-named run of trace 1 beside the conversation's
    assert [(s.kind, s.name) for s in runs[tid(1)].steps] == [("llm", "gpt-4o-mini"), ("tool", "search"),
                                                             ("llm", "gpt-4o-mini")]
    assert runs[tid(1)].trace_ids == (tid(1), tid(2))
    assert (runs[tid(5)].agent, runs[tid(5)].conversation_id, runs[tid(5)].trace_ids) == ("helper", None, ())


def test_a_pending_trace_stays_its_own_until_its_agent_span_arrives(any_store):
    any_store.write_spans([call(1, 10), call(2, 20, span="b" * 16, parent="3" * 16)])  # 2: its root is missing
    assemble(any_store)
    assert any_store.get_run(tid(1)).trace_ids == (tid(1),)
    pending = any_store.get_run(tid(2))
    assert (pending.complete, pending.conversation_id) == (False, None)
    any_store.write_spans([agent(2, 19)])
    assemble(any_store)
    assert any_store.get_run(tid(2)).agent == "helper" and any_store.get_run(tid(1)).trace_ids == (tid(1),)


def test_a_trace_that_gets_an_agent_span_leaves_the_conversation(any_store):
    root = SpanRecord(tid(1), "4" * 16, None, "POST /chat", 2, 9 * S, 12 * S, {}, resource_attributes=RESOURCE)
    any_store.write_spans([root, call(1, 10, parent="4" * 16), call(2, 20)])
    assemble(any_store)
    assert any_store.get_run(tid(2)).trace_ids == (tid(1), tid(2))  # keyed by trace 1
    any_store.write_spans([agent(1, 9, parent="4" * 16)])  # its agent span arrives late
    assemble(any_store)
    runs = {r.trace_id: r for r in any_store.list_runs()}
    assert set(runs) == {tid(1), tid(2)}
    assert (runs[tid(1)].agent, runs[tid(1)].conversation_id) == ("helper", None)
    assert runs[tid(2)].trace_ids == (tid(2),) and any_store.get_run(tid(1)).agent == "helper"


def test_an_outcome_on_any_trace_of_the_conversation_is_the_runs(any_store):
    any_store.write_spans([call(1, 10), call(2, 20), call(3, 30)])
    assemble(any_store)
    assert any_store.set_outcome(tid(2), False, "user said no")
    run = any_store.get_run(tid(3))  # applied at once
    assert (run.trace_id, run.outcome, run.outcome_source) == (tid(1), False, "api")
    assemble(any_store)  # the mark it left re-assembles the run: the outcome stays
    assert (any_store.get_run(tid(1)).outcome, any_store.get_run(tid(1)).outcome_source) == (False, "api")
    assert any_store.set_outcome(tid(3), True)  # the latest outcome set on any of its traces wins
    assemble(any_store)
    any_store.write_spans([call(4, 40)])
    assemble(any_store)
    run = any_store.get_run(tid(4))
    assert (run.outcome, run.outcome_source, len(run.trace_ids)) == (True, "api", 4)


def test_an_evaluation_of_any_trace_gives_the_outcome(any_store):
    any_store.write_spans([call(1, 10), call(2, 20)])
    assemble(any_store)
    record = EvaluationRecord(tid(2), "1" * 16, "task_success", None, "pass", None, 50 * S, {})
    assert any_store.write_evaluations([record]) == 1
    assemble(any_store)
    run = any_store.get_run(tid(1))
    assert (run.outcome, run.outcome_source) == (True, "evaluation")


def test_an_older_assembly_of_a_conversation_never_replaces_a_newer_one(any_store, store_url):
    any_store.write_spans([call(1, 10), call(2, 20)])
    assemble(any_store)
    read = any_store.conversation_inputs(["conv-a"])["conv-a"]  # a replica reads the conversation ...
    stale = AssembledConversation("conv-a", read.generation,
                                  assemble_conversation("conv-a", [t.spans for t in read.traces.values()]))
    with open_store(store_url) as other:  # ... while another stores a late call and assembles first
        other.write_spans([call(3, 30)])
        assemble(other)
    assert stale.generation < any_store.conversation_inputs(["conv-a"])["conv-a"].generation
    assert any_store.save_runs([], [stale]) == 0  # dropped: the stored run is newer
    assert any_store.get_run(tid(1)).trace_ids == (tid(1), tid(2), tid(3))
    assert any_store.conversation_inputs(["nope"]) == {}


def test_replicas_assembling_one_conversation_at_once_converge(any_store, store_url):
    calls = 40
    done = threading.Event()
    errors: list[BaseException] = []

    def replica(store: Store) -> None:
        assembler = RunAssembler(store)
        try:
            while not done.is_set() or store.dirty_traces(1):
                assembler.assemble_pending()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    with open_store(store_url) as a, open_store(store_url) as b:
        threads = [threading.Thread(target=replica, args=(s,)) for s in (a, b)]
        for thread in threads:
            thread.start()
        for n in range(1, calls + 1):
            (a if n % 2 else b).write_spans([call(n, 1000 - n)])  # each call earlier: the key moves each time
        done.set()
        for thread in threads:
            thread.join(120)
        assert errors == [] and not any(t.is_alive() for t in threads)
        assert a.get_run(tid(1)) == b.get_run(tid(calls))
    [run] = any_store.list_runs()
    assert run.trace_ids == tuple(tid(n) for n in range(calls, 0, -1)) and len(run.steps) == calls
    assert any_store.dirty_traces(10) == []


def _old_span_rows(spans: list[SpanRecord]) -> list[tuple[object, ...]]:
    return [(s.trace_id, s.span_id, s.parent_span_id, s.name, s.kind, s.start_time_unix_nano, s.end_time_unix_nano,
             s.status_code, s.status_message, 1, s.scope_name, s.scope_version, _codec.span_body(s), 0) for s in spans]


OLD_SPANS = [call(1, 10), call(2, 20),
             SpanRecord(tid(3), "5" * 16, None, "chat m", 3, 30 * S, 31 * S,  # NaN: not strict JSON
                        {sc.GEN_AI_CONVERSATION_ID: "conv-a", sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT, "x": float("nan")})]
_COLUMNS = ("trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns, status_code, status_message,"
            " resource_id, scope_name, scope_version, body, received_ns")


def test_a_schema_3_sqlite_file_indexes_its_stored_conversations_on_start(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for migration in _schema.MIGRATIONS[:3]:
        conn.executescript(migration)
    conn.execute("PRAGMA user_version=3")
    conn.execute("INSERT INTO resources(id, digest, attributes) VALUES (1, 'd', ?)", (_codec.dumps(RESOURCE),))
    conn.executemany(f"INSERT INTO spans({_COLUMNS}) VALUES ({', '.join('?' * 14)})", _old_span_rows(OLD_SPANS))
    conn.close()
    with SqliteStore(path) as store:
        assert store.schema_version == _schema.SCHEMA_VERSION
        assemble(store)
        assert store.get_run(tid(2)).trace_ids == (tid(1), tid(2), tid(3))


def test_a_schema_2_postgres_database_indexes_its_stored_conversations_on_start(postgres_url):
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE otel_meta_schema (version INTEGER NOT NULL)")
        for migration in _pg_schema.MIGRATIONS[:2]:
            conn.execute(migration)
        conn.execute("INSERT INTO otel_meta_schema(version) VALUES (2)")
        conn.execute("INSERT INTO resources(id, digest, attributes) VALUES (1, 'd', %s)", (_codec.dumps(RESOURCE),))
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO spans({_COLUMNS}) VALUES ({', '.join(['%s'] * 14)})",
                            _old_span_rows(OLD_SPANS))
    with PostgresStore(postgres_url) as store:
        assert store.schema_version == _pg_schema.SCHEMA_VERSION
        assemble(store)
        assert store.get_run(tid(2)).trace_ids == (tid(1), tid(2), tid(3))


def test_an_unreadable_span_degrades_the_conversations_run_and_stops_nothing(any_store):
    bad = tool(2, 21, "bad", parent="1" * 16)
    bad = SpanRecord(bad.trace_id, bad.span_id, bad.parent_span_id, bad.name, bad.kind, bad.start_time_unix_nano,
                     bad.end_time_unix_nano, {**bad.attributes, sc.OTEL_META_REASONING_CHARS: math.inf},
                     resource_attributes=RESOURCE)
    any_store.write_spans([call(1, 10), call(2, 20), bad, call(3, 30, "conv-b")])
    assembler = assemble(any_store)
    run = any_store.get_run(tid(2))
    assert run.trace_ids == (tid(1), tid(2)) and [s.kind for s in run.steps] == ["llm", "llm"]
    assert any_store.get_run(tid(3)).conversation_id == "conv-b" and assembler.errors == 1
