"""``PostgresStore``: the store shared by several analyzer replicas (psycopg 3 and a connection pool).

It keeps ``SqliteStore``'s promises: a write returns after its transaction is committed (PostgreSQL's
default ``synchronous_commit=on``: the WAL is flushed); the schema is versioned and migrated on start;
the receiver's ``IngestQueue`` commits many requests in one transaction (group commit), which here is one
``INSERT … SELECT FROM unnest(…)`` per table; ``iter_runs`` reads in keyset-paginated batches, so memory
stays bounded; bad values get the same answers (``SpanValueError`` before anything is written).

Several ``otel-meta serve`` processes on one database are correct together: a trace whose spans reach two
replicas is marked dirty by both (its ``gen`` grows) and ``save_runs`` keeps an assembly only if the
trace was not marked again meanwhile; outcomes and assessments are upserted (``ON CONFLICT … DO
UPDATE``), span and evaluation retries ignored (``ON CONFLICT DO NOTHING``); rows are written in key
order, and a transaction that still meets a deadlock or serialization failure is retried. Learning
cycles take the session-level advisory lock ``pg_try_advisory_lock(key)``, ``key`` a 64-bit digest of
``"otel-meta learn:" + name``, so one cycle per agent runs at a time across replicas.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool, PoolTimeout

from analyzers.errors import (
    StoreConnectionError,
    StoreCorruptError,
    StoreError,
    StoreFullError,
    StoreVersionError,
)
from analyzers.model import Assessment, EvaluationRecord, Run, SpanRecord
from analyzers.store import _codec, display_name
from analyzers.store import _pg_conversations as conversation_sql
from analyzers.store._pg_schema import MIGRATIONS, REQUIRED_TABLES, SCHEMA_VERSION
from analyzers.store.base import (
    AssembledConversation,
    AssembledRun,
    ConversationInputs,
    DirtyTrace,
    TraceInputs,
    check_span_values,
    quality_bounds,
)
from analyzers.store.base import (
    batched as _batched,
)

logger = logging.getLogger(__name__)

_ITER_BATCH = 1000
_POOL_MAX = 8
_CONNECT_TIMEOUT_S = 10
_RETRIES = 5
_MIGRATION_LOCK = 0x6F74656C6D657461  # "otelmeta": one migration at a time across replicas
_RETRYABLE = (pg_errors.DeadlockDetected, pg_errors.SerializationFailure)

_SPAN_COLUMNS = ("trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns, status_code, status_message,"
                 " resource_id, scope_name, scope_version, body, received_ns")
# Spans are copied (COPY, the driver's fast path) into a per-session staging table, then inserted from it
# in key order, ignoring retries.
_SPAN_STAGE = "CREATE TEMP TABLE IF NOT EXISTS spans_in (LIKE spans) ON COMMIT DELETE ROWS"
_SPAN_COPY = f"COPY spans_in ({_SPAN_COLUMNS}) FROM STDIN"
_SPAN_INSERT = (f"INSERT INTO spans ({_SPAN_COLUMNS}) SELECT {_SPAN_COLUMNS} FROM spans_in"
                " ORDER BY trace_id, span_id ON CONFLICT DO NOTHING")
_MARK_DIRTY = ("INSERT INTO dirty_traces(trace_id, gen) SELECT t, 1 FROM unnest(%s::text[]) AS t"
               " ON CONFLICT (trace_id) DO UPDATE SET gen = dirty_traces.gen + 1")
_RUN_UPSERT = (f"INSERT INTO runs({_codec.RUN_COLUMNS}) VALUES ({', '.join(['%s'] * len(_codec.RUN_COLUMNS.split(', ')))})"
               " ON CONFLICT (trace_id) DO UPDATE SET "
               + ", ".join(f"{c} = EXCLUDED.{c}" for c in _codec.RUN_COLUMNS.split(", ")[1:]))
_ASSESSMENT_UPSERT = (
    f"INSERT INTO assessments({_codec.ASSESSMENT_COLUMNS}, ts_ns) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (request_id, agent_name) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in (*_codec.ASSESSMENT_COLUMNS.split(", ")[2:], "ts_ns")))


def _advice(exc: BaseException) -> tuple[type[StoreError], str]:
    if isinstance(exc, pg_errors.DiskFull):
        return StoreFullError, "free disk space on the database server, then retry"
    if isinstance(exc, (pg_errors.UndefinedTable, pg_errors.UndefinedColumn, pg_errors.DataCorrupted,
                        pg_errors.IndexCorrupted)):
        return StoreCorruptError, "the database is not an intact otel-meta store; restore it from a backup"
    if isinstance(exc, pg_errors.InsufficientPrivilege):
        return StoreError, "grant this user the rights to the otel-meta tables, or connect as their owner"
    if isinstance(exc, (psycopg.OperationalError, PoolTimeout)):
        return StoreConnectionError, "check that PostgreSQL runs and accepts this user, host, port and database"
    return StoreError, "check the database server's log, then retry"


def _scalar(conn: psycopg.Connection[Any], sql: str, params: Sequence[Any] = ()) -> Any:
    """The one value a query that always returns one row returns."""
    row = conn.execute(sql, params).fetchone()
    if row is None:
        raise StoreCorruptError(f"{sql!r} returned no row; the database is not an intact otel-meta store")
    return row[0]


def lock_key(name: str) -> int:
    """The advisory lock key (a signed 64-bit integer) of the learning cycle ``name``."""
    digest = hashlib.blake2b(f"otel-meta learn:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresStore:
    """The ``Store`` on one PostgreSQL database, for ``postgresql://user@host:port/dbname``."""

    def __init__(self, url: str, *, pool_size: int = _POOL_MAX) -> None:
        self.url = url
        self.where = display_name(url)
        self._resource_ids: dict[str, int] = {}
        self._cache_lock = threading.Lock()
        self._last_write_error: str | None = None
        self._closed = False
        self._migrate()
        self._pool = ConnectionPool(url, min_size=1, max_size=pool_size, open=False, name="otel-meta",
                                    kwargs={"autocommit": True}, timeout=_CONNECT_TIMEOUT_S)
        try:
            self._pool.open(wait=True, timeout=_CONNECT_TIMEOUT_S)
        except PoolTimeout as exc:
            self._pool.close()
            raise self._error("open the store", exc) from exc

    def _error(self, what: str, exc: BaseException) -> StoreError:
        cls, fix = _advice(exc)
        cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return cls(f"cannot {what} at {self.where}: {cause}; {fix}")

    # --- connections and transactions ----------------------------------------------------------------
    @contextmanager
    def _connection(self, what: str) -> Iterator[psycopg.Connection[Any]]:
        if self._closed:
            raise StoreError(f"the store at {self.where} is closed")
        try:
            with self._pool.connection() as conn:
                yield conn
        except (psycopg.Error, PoolTimeout) as exc:
            raise self._error(what, exc) from exc

    def _transaction(self, what: str, work: Any) -> Any:
        """Run ``work(conn)`` in one transaction and return its result; retry deadlocks and
        serialization failures, map every driver error to a ``StoreError`` that keeps its cause."""
        for attempt in range(_RETRIES):
            try:
                with self._connection(what) as conn, conn.transaction():
                    result = work(conn)
            except StoreError as exc:
                if isinstance(exc.__cause__, _RETRYABLE) and attempt + 1 < _RETRIES:
                    time.sleep(0.01 * (attempt + 1))
                    continue
                if not isinstance(exc, StoreConnectionError):
                    self._last_write_error = str(exc)
                raise
            self._last_write_error = None
            return result
        raise AssertionError("unreachable")

    def _migrate(self) -> None:
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S)
        except psycopg.Error as exc:
            raise self._error("connect to the store", exc) from exc
        try:
            with conn:
                for number in range(1, SCHEMA_VERSION + 2):
                    with conn.transaction():
                        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                        conn.execute("CREATE TABLE IF NOT EXISTS otel_meta_schema (version INTEGER NOT NULL)")
                        row = conn.execute("SELECT version FROM otel_meta_schema").fetchone()
                        version = 0 if row is None else int(row[0])
                        if version > SCHEMA_VERSION:
                            raise StoreVersionError(
                                f"{self.where} has schema version {version}, newer than this otel-meta "
                                f"({SCHEMA_VERSION}); upgrade otel-meta to use it")
                        if version == SCHEMA_VERSION:
                            return
                        logger.info("migrating %s to schema version %d", self.where, version + 1)
                        conn.execute(MIGRATIONS[version])
                        if row is None:
                            conn.execute("INSERT INTO otel_meta_schema(version) VALUES (%s)", (version + 1,))
                        else:
                            conn.execute("UPDATE otel_meta_schema SET version = %s", (version + 1,))
        except psycopg.Error as exc:
            raise self._error("migrate the store", exc) from exc

    @property
    def schema_version(self) -> int:
        with self._connection("read the schema version") as conn:
            return int(_scalar(conn, "SELECT version FROM otel_meta_schema"))

    # --- storing -------------------------------------------------------------------------------------
    def _resource_ids_for(self, conn: psycopg.Connection[Any], spans: Sequence[SpanRecord],
                          fresh: dict[str, int]) -> list[int]:
        keys: dict[int, tuple[str, str]] = {}
        for s in spans:
            if id(s.resource_attributes) not in keys:
                keys[id(s.resource_attributes)] = _codec.resource_key(s.resource_attributes)
        with self._cache_lock:
            known = {d: self._resource_ids[d] for _, d in keys.values() if d in self._resource_ids}
        missing = sorted({(d, t) for t, d in keys.values() if d not in known})
        if missing:
            conn.execute("INSERT INTO resources(digest, attributes) SELECT * FROM unnest(%s::text[], %s::text[])"
                         " ON CONFLICT (digest) DO NOTHING", ([d for d, _ in missing], [t for _, t in missing]))
            for rid, digest in conn.execute("SELECT id, digest FROM resources WHERE digest = ANY(%s)",
                                            ([d for d, _ in missing],)):
                known[digest] = fresh[digest] = int(rid)
        return [known[keys[id(s.resource_attributes)][1]] for s in spans]

    def write_spans(self, spans: Sequence[SpanRecord]) -> int:
        """See ``Store.write_spans``."""
        if not spans:
            return 0
        check_span_values(spans)
        ordered = sorted(spans, key=lambda s: (s.trace_id, s.span_id))  # key order: no deadlocks
        now = time.time_ns()
        texts = [_codec.text_columns(s) for s in ordered]
        bodies = [_codec.span_body(s, nul_free=True) for s in ordered]
        fresh: dict[str, int] = {}

        def work(conn: psycopg.Connection[Any]) -> int:
            fresh.clear()
            rids = self._resource_ids_for(conn, ordered, fresh)
            conn.execute(_SPAN_STAGE)
            with conn.cursor() as cur:
                with cur.copy(_SPAN_COPY) as copy:
                    for s, (name, message, scope, version), rid, body in zip(ordered, texts, rids, bodies):
                        copy.write_row((s.trace_id, s.span_id, s.parent_span_id, name, s.kind, s.start_time_unix_nano,
                                        s.end_time_unix_nano, s.status_code, message, rid, scope, version, body, now))
                stored = cur.execute(_SPAN_INSERT).rowcount
            traces = sorted({s.trace_id for s in ordered})
            conn.execute(_MARK_DIRTY, (traces,))
            conversation_sql.index(conn, ordered, traces)
            return stored

        stored = int(self._transaction("write spans", work))
        with self._cache_lock:  # only ids of committed resources are cached
            if len(self._resource_ids) > 4096:
                self._resource_ids.clear()
            self._resource_ids.update(fresh)
        return stored

    def write_evaluations(self, records: Sequence[EvaluationRecord]) -> int:
        """See ``Store.write_evaluations`` (NUL characters in its text fields become U+FFFD)."""
        if not records:
            return 0
        now = time.time_ns()
        rows = [(*(v.replace("\x00", "\ufffd") if isinstance(v, str) else v for v in _codec.evaluation_row(r)), now)
                for r in sorted(records, key=lambda r: (r.trace_id, r.time_unix_nano))]

        def work(conn: psycopg.Connection[Any]) -> int:
            stored = 0
            with conn.cursor() as cur:
                for row in rows:
                    cur.execute(f"INSERT INTO evaluations({_codec.EVALUATION_COLUMNS}, received_ns) VALUES "
                                "(%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING", row)
                    stored += cur.rowcount
            traces = sorted({r.trace_id for r in records})
            conn.execute(_MARK_DIRTY, (traces,))
            conversation_sql.mark(conn, traces)
            return stored

        return int(self._transaction("write evaluations", work))

    def set_outcome(self, trace_id: str, success: bool, submission: str | None = None) -> bool:
        """See ``Store.set_outcome``."""
        def work(conn: psycopg.Connection[Any]) -> bool:
            if conn.execute("SELECT 1 FROM spans WHERE trace_id = %s LIMIT 1", (trace_id,)).fetchone() is None:
                return False
            conn.execute("INSERT INTO outcomes(trace_id, success, submission, set_ns) VALUES (%s, %s, %s, %s)"
                         " ON CONFLICT (trace_id) DO UPDATE SET success = EXCLUDED.success,"
                         " submission = EXCLUDED.submission, set_ns = EXCLUDED.set_ns",
                         (trace_id, int(success), submission, time.time_ns()))
            conn.execute("UPDATE runs SET outcome = %s, outcome_source = 'api' WHERE trace_id = "
                         + conversation_sql.RUN_OF_TRACE, (int(success), trace_id, trace_id))
            if conversation_sql.indexed(conn, trace_id):  # re-assembly must read it with the others'
                conn.execute(_MARK_DIRTY, ([trace_id],))
                conversation_sql.mark(conn, [trace_id])
            return True

        return bool(self._transaction("set an outcome", work))

    def save_assessment(self, assessment: Assessment) -> None:
        """See ``Store.save_assessment``."""
        row = _codec.assessment_row(assessment)
        self._transaction("save an assessment", lambda conn: conn.execute(_ASSESSMENT_UPSERT, row))

    # --- assembly ------------------------------------------------------------------------------------
    def dirty_traces(self, limit: int, *, among: Sequence[str] | None = None) -> list[DirtyTrace]:
        """See ``Store.dirty_traces``."""
        with self._connection("list dirty traces") as conn:
            if among is None:
                rows = conn.execute("SELECT trace_id, gen FROM dirty_traces LIMIT %s", (int(limit),)).fetchall()
            else:
                rows = conn.execute("SELECT trace_id, gen FROM dirty_traces WHERE trace_id = ANY(%s)"
                                    " ORDER BY trace_id LIMIT %s", (sorted(set(among)), int(limit))).fetchall()
        return [DirtyTrace(t, int(g)) for t, g in rows]

    def trace_inputs(self, trace_ids: Sequence[str]) -> dict[str, TraceInputs]:
        """See ``Store.trace_inputs``: four queries for all the traces, in one snapshot."""
        ids = sorted(set(trace_ids))
        with self._connection("read traces") as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            return self._trace_inputs(conn, ids)

    def _trace_inputs(self, conn: psycopg.Connection[Any], ids: list[str]) -> dict[str, TraceInputs]:
        spans = self._load_spans(conn, ids)
        evaluations = self._load_evaluations(conn, ids)
        outcomes: dict[str, tuple[bool, int]] = {t: (bool(ok), int(at)) for t, ok, at in conn.execute(
            "SELECT trace_id, success, set_ns FROM outcomes WHERE trace_id = ANY(%s)", (ids,))}
        named, listed = conversation_sql.grouping(conn, ids)
        return {t: TraceInputs(spans.get(t, []), evaluations.get(t, []),
                               outcomes[t][0] if t in outcomes else None, outcomes[t][1] if t in outcomes else None,
                               named.get(t, ()), listed.get(t)) for t in ids}

    def conversation_inputs(self, conversation_ids: Sequence[str]) -> dict[str, ConversationInputs]:
        """See ``Store.conversation_inputs``: one snapshot for all of them."""
        ids = sorted(set(conversation_ids))
        with self._connection("read conversations") as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            known = conversation_sql.members(conn, ids)
            inputs = self._trace_inputs(conn, sorted({t for _, traces in known.values() for t in traces}))
        return {cid: ConversationInputs(cid, gen, {t: inputs[t] for t in traces})
                for cid, (gen, traces) in sorted(known.items())}

    def save_runs(self, assembled: Sequence[AssembledRun],
                  conversations: Sequence[AssembledConversation] = ()) -> int:
        """See ``Store.save_runs``."""
        items = sorted(assembled, key=lambda a: a.trace.trace_id)
        grouped = sorted(conversations, key=lambda c: c.conversation_id)

        def work(conn: psycopg.Connection[Any]) -> int:
            saved = 0
            for item in items:
                trace = item.trace
                if conn.execute("DELETE FROM dirty_traces WHERE trace_id = %s AND gen = %s",
                                (trace.trace_id, trace.generation)).rowcount != 1:
                    continue  # marked again (maybe by another replica): the next pass assembles it
                if item.run is not None:
                    conn.execute(_RUN_UPSERT, _codec.run_row(item.run))
                elif not item.failed:
                    conn.execute("DELETE FROM runs WHERE trace_id = %s AND conversation_id IS NULL", (trace.trace_id,))
                saved += 1
            return saved + sum(conversation_sql.save(conn, g, _RUN_UPSERT) for g in grouped)

        return int(self._transaction("save assembled runs", work))

    def import_runs(self, runs: Iterable[Run], *, batch: int = 10_000) -> int:
        """Store runs assembled elsewhere, with no spans behind them (a benchmark's synthetic runs), in
        transactions of ``batch`` runs, consuming ``runs`` as a stream; return how many were stored."""
        done = 0
        for chunk in _batched(runs, batch):
            rows = [_codec.run_row(r) for r in chunk]

            def work(conn: psycopg.Connection[Any], rows: list[tuple[Any, ...]] = rows) -> None:
                with conn.cursor() as cur:
                    cur.executemany(_RUN_UPSERT, rows)

            self._transaction("import runs", work)
            done += len(chunk)
        return done

    # --- reading -------------------------------------------------------------------------------------
    @staticmethod
    def _load_spans(conn: psycopg.Connection[Any], trace_ids: list[str]) -> dict[str, list[SpanRecord]]:
        rows = conn.execute(f"SELECT {_codec.SPAN_COLUMNS}, resource_id FROM spans WHERE trace_id = ANY(%s)"
                            " ORDER BY trace_id, start_ns, span_id", (trace_ids,)).fetchall()
        rids = sorted({row[-1] for row in rows})
        resources = {rid: _codec.loads(text) for rid, text in
                     conn.execute("SELECT id, attributes FROM resources WHERE id = ANY(%s)", (rids,))}
        found: dict[str, list[SpanRecord]] = {}
        for row in rows:
            found.setdefault(row[0], []).append(_codec.span_from_row(row[:-1], resources[row[-1]]))
        return found

    @staticmethod
    def _load_evaluations(conn: psycopg.Connection[Any], trace_ids: list[str]) -> dict[str, list[EvaluationRecord]]:
        rows = conn.execute(f"SELECT {_codec.EVALUATION_COLUMNS} FROM evaluations WHERE trace_id = ANY(%s)"
                            " ORDER BY trace_id, time_ns, name", (trace_ids,)).fetchall()
        found: dict[str, list[EvaluationRecord]] = {}
        for row in rows:
            found.setdefault(row[0], []).append(_codec.evaluation_from_row(row))
        return found

    def spans_for_trace(self, trace_id: str) -> list[SpanRecord]:
        with self._connection("read spans") as conn:
            return self._load_spans(conn, [trace_id]).get(trace_id, [])

    def evaluations_for_trace(self, trace_id: str) -> list[EvaluationRecord]:
        with self._connection("read evaluations") as conn:
            return self._load_evaluations(conn, [trace_id]).get(trace_id, [])

    def count_spans(self) -> int:
        with self._connection("count spans") as conn:
            return int(_scalar(conn, "SELECT count(*) FROM spans"))

    def get_run(self, trace_id: str) -> Run | None:
        with self._connection("read a run") as conn:
            row = conn.execute(f"SELECT {_codec.RUN_COLUMNS} FROM runs WHERE trace_id = {conversation_sql.RUN_OF_TRACE}",
                               (trace_id, trace_id)).fetchone()
        return None if row is None else _codec.run_from_row(row)

    def list_runs(
        self,
        agent: str | None = None,
        limit: int | None = None,
        *,
        with_outcome: bool = False,
        include_pending: bool = False,
        since_unix_nano: int | None = None,
    ) -> list[Run]:
        where, params = _codec.run_filter("%s", agent, with_outcome=with_outcome, include_pending=include_pending,
                                          since_unix_nano=since_unix_nano)
        sql = f"SELECT {_codec.RUN_COLUMNS} FROM runs{where} ORDER BY started_ns DESC, trace_id DESC"
        if limit is not None:
            sql += " LIMIT %s"
            params.append(int(limit))
        with self._connection("list runs") as conn:
            return [_codec.run_from_row(r) for r in conn.execute(sql, params)]

    def iter_runs(self, agent: str, *, batch: int = _ITER_BATCH) -> Iterator[Run]:
        """See ``Store.iter_runs``: keyset-paginated batches, no connection held between them."""
        def fetch(after: tuple[int, str], limit: int) -> list[Any]:
            with self._connection("read runs") as conn:
                return conn.execute(
                    f"SELECT {_codec.RUN_COLUMNS} FROM runs WHERE agent = %s AND complete = 1"
                    " AND (started_ns, trace_id) > (%s, %s) ORDER BY started_ns, trace_id LIMIT %s",
                    (agent, after[0], after[1], limit)).fetchall()

        return _codec.run_pages(fetch, batch)

    def agents(self) -> list[str]:
        with self._connection("list agents") as conn:
            return [r[0] for r in conn.execute("SELECT DISTINCT agent FROM runs ORDER BY agent")]

    def count_runs(self, agent: str | None = None, *, since_unix_nano: int | None = None) -> int:
        where, params = _codec.run_filter("%s", agent, since_unix_nano=since_unix_nano)
        with self._connection("count runs") as conn:
            return int(_scalar(conn, f"SELECT count(*) FROM runs{where}", params))

    def submission(self, trace_id: str) -> str | None:
        with self._connection("read an outcome") as conn:
            row = conn.execute("SELECT submission FROM outcomes WHERE trace_id = %s", (trace_id,)).fetchone()
        return None if row is None else row[0]

    def get_assessment(self, request_id: str, agent_name: str = "meta-agent") -> Assessment | None:
        with self._connection("read an assessment") as conn:
            row = conn.execute(f"SELECT {_codec.ASSESSMENT_COLUMNS} FROM assessments"
                               " WHERE request_id = %s AND agent_name = %s", (request_id, agent_name)).fetchone()
        return None if row is None else _codec.assessment_from_row(row)

    def list_assessments(
        self,
        *,
        min_quality: float | None = None,
        max_quality: float | None = None,
        should_replan: bool | None = None,
        should_deepen: bool | None = None,
        start: str | None = None,
        end: str | None = None,
    ) -> list[Assessment]:
        low, high = quality_bounds(min_quality, max_quality)
        where, params = _codec.assessment_filter("%s", low, high, should_replan, should_deepen, start, end)
        with self._connection("list assessments") as conn:
            rows = conn.execute(f"SELECT {_codec.ASSESSMENT_COLUMNS} FROM assessments{where}"
                                " ORDER BY ts_ns DESC, request_id", params).fetchall()
        return [_codec.assessment_from_row(r) for r in rows]

    # --- lifecycle -----------------------------------------------------------------------------------
    def health(self, timeout_s: float = 2.0) -> str | None:
        """See ``Store.health``: commits a real one-row write and checks every table is there."""
        if self._closed:
            return f"the store at {self.where} is closed"
        try:
            with self._pool.connection(timeout=timeout_s) as conn, conn.transaction():
                conn.execute(f"SET LOCAL statement_timeout = {int(timeout_s * 1000)}")
                conn.execute(f"SET LOCAL lock_timeout = {int(timeout_s * 1000)}")
                missing = [t for t in REQUIRED_TABLES
                           if _scalar(conn, "SELECT to_regclass(%s)", (t,)) is None]
                conn.execute("UPDATE otel_meta_schema SET version = version")
        except (psycopg.Error, PoolTimeout) as exc:
            return str(self._error("write", exc))
        if missing:
            return f"the store at {self.where} lacks its table(s) {', '.join(missing)}; restore it from a backup"
        return self._last_write_error

    def healthy(self, timeout_s: float = 2.0) -> bool:
        """``health() is None``."""
        return self.health(timeout_s) is None

    @contextmanager
    def learning_lock(self, name: str) -> Iterator[bool]:
        """See ``Store.learning_lock``: ``pg_try_advisory_lock(lock_key(name))`` on a connection held
        for the cycle (a replica killed mid-cycle loses its session, and so the lock)."""
        key = lock_key(name)
        with self._connection("take the learning lock") as conn:
            got = bool(_scalar(conn, "SELECT pg_try_advisory_lock(%s)", (key,)))
            try:
                yield got
            finally:
                if got:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._pool.close()

    def __enter__(self) -> PostgresStore:  # noqa: PYI034 - typing.Self needs 3.11
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PostgresStore({self.where!r})"
