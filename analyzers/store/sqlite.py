"""``SqliteStore``: the embedded store (one SQLite file in WAL mode).

Durability: ``synchronous=FULL``. In WAL mode FULL fsyncs the write-ahead log at every commit, so a
committed transaction survives a power loss as well as a ``kill -9``; NORMAL would survive a process
crash only (the last commits may roll back after an OS crash), which is weaker than what an OTLP
acknowledgement promises. The receiver commits many requests in one transaction (group commit), so the
cost is one fsync per group, not per request. ``synchronous="NORMAL"`` can be passed for throwaway
stores.

Runs are derived from spans lazily: ``write_spans`` stores the spans and marks their traces dirty in
the same transaction; ``refresh_runs()`` (called by every run query, and by the receiver when idle)
re-assembles dirty traces. Late spans therefore update their run, and a reader never sees a run older
than the spans committed before its query.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from analyzers.conventions import assemble_run
from analyzers.errors import StoreError
from analyzers.model import Assessment, EvaluationRecord, Run, SpanRecord
from analyzers.store import _codec
from analyzers.store._schema import MIGRATIONS, SCHEMA_VERSION

logger = logging.getLogger(__name__)

_REFRESH_CHUNK = 256
_ITER_FETCH = 1000
_RESOURCE_CACHE_MAX = 4096
_READER_POOL_MAX = 8


def _iso_to_ns(ts: str) -> int:
    dt = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp() * 1_000_000) * 1000


class SqliteStore:
    """The ``Store`` on one SQLite file. Safe to use from several threads and processes."""

    def __init__(self, path: str | Path, *, synchronous: str = "FULL", busy_timeout_s: float = 30.0) -> None:
        if synchronous.upper() not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError(f"synchronous must be FULL, NORMAL or EXTRA, not {synchronous!r}")
        self.path = Path(path)
        self._synchronous = synchronous.upper()
        self._busy_timeout_ms = int(busy_timeout_s * 1000)
        self._write_lock = threading.Lock()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._resource_ids: dict[str, int] = {}
        self._closed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = self._connect()
            self._migrate()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store at {self.path}: {exc}") from exc

    # --- connections ---------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                               timeout=self._busy_timeout_ms / 1000)
        conn.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"{self.path}: SQLite refused WAL mode (got {mode}); use a local file system")
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """A reader connection from the pool (WAL lets readers run beside the writer)."""
        if self._closed:
            raise StoreError(f"the store at {self.path} is closed")
        with self._readers_lock:
            conn = self._readers.pop() if self._readers else None
        if conn is None:
            conn = self._connect()
        try:
            yield conn
        finally:
            with self._readers_lock:
                if self._closed or len(self._readers) >= _READER_POOL_MAX:
                    conn.close()
                else:
                    self._readers.append(conn)

    def _migrate(self) -> None:
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise StoreError(
                        f"{self.path} has schema version {version}, newer than this otel-meta "
                        f"({SCHEMA_VERSION}); upgrade otel-meta to read it"
                    )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            for number in range(version + 1, SCHEMA_VERSION + 1):
                logger.info("migrating %s to schema version %d", self.path, number)
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in MIGRATIONS[number - 1].split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute(f"PRAGMA user_version={number}")
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise

    @property
    def schema_version(self) -> int:
        with self._reading() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    # --- writing spans -------------------------------------------------------------------------------
    def _resource_id(self, conn: sqlite3.Connection, attributes: Any) -> int:
        text, digest = _codec.resource_key(attributes)
        rid = self._resource_ids.get(digest)
        if rid is None:
            conn.execute("INSERT OR IGNORE INTO resources(digest, attributes) VALUES (?, ?)", (digest, text))
            rid = conn.execute("SELECT id FROM resources WHERE digest = ?", (digest,)).fetchone()[0]
            if len(self._resource_ids) >= _RESOURCE_CACHE_MAX:
                self._resource_ids.clear()
            self._resource_ids[digest] = rid
        return int(rid)

    def write_spans(self, spans: Sequence[SpanRecord]) -> int:
        """See ``Store.write_spans``. The spans' traces are marked; their runs are assembled before the
        next read of runs."""
        if not spans:
            return 0
        now = time.time_ns()
        with self._write_lock:
            conn = self._writer
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    rows = []
                    resource_ids: dict[int, int] = {}
                    for s in spans:
                        res = s.resource_attributes
                        rid = resource_ids.get(id(res))
                        if rid is None:
                            rid = resource_ids[id(res)] = self._resource_id(conn, res)
                        rows.append((s.trace_id, s.span_id, s.parent_span_id, s.name, s.kind,
                                     s.start_time_unix_nano, s.end_time_unix_nano, s.status_code,
                                     s.status_message, rid, s.scope_name, s.scope_version,
                                     _codec.span_body(s), now))
                    before = conn.total_changes
                    conn.executemany(
                        "INSERT OR IGNORE INTO spans(trace_id, span_id, parent_span_id, name, kind, start_ns,"
                        " end_ns, status_code, status_message, resource_id, scope_name, scope_version, body,"
                        " received_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        rows,
                    )
                    stored = conn.total_changes - before
                    conn.executemany("INSERT OR IGNORE INTO dirty_traces(trace_id) VALUES (?)",
                                     [(t,) for t in {s.trace_id for s in spans}])
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    self._resource_ids.clear()
                    raise
            except sqlite3.Error as exc:
                raise StoreError(f"cannot write spans to {self.path}: {exc}") from exc
        return stored

    # --- deriving runs -------------------------------------------------------------------------------
    def pending_refresh(self) -> bool:
        """``True`` when some traces have spans newer than their assembled run."""
        with self._reading() as conn:
            return conn.execute("SELECT 1 FROM dirty_traces LIMIT 1").fetchone() is not None

    def refresh_runs(self, max_traces: int | None = None) -> int:
        """Re-assemble the runs of traces that received spans; return how many traces were processed."""
        done = 0
        while max_traces is None or done < max_traces:
            chunk = _REFRESH_CHUNK if max_traces is None else min(_REFRESH_CHUNK, max_traces - done)
            n = self._refresh_chunk(chunk)
            done += n
            if n < chunk:
                break
        return done

    def _refresh_chunk(self, limit: int) -> int:
        with self._write_lock:
            conn = self._writer
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    traces = [r[0] for r in conn.execute("SELECT trace_id FROM dirty_traces LIMIT ?", (limit,))]
                    for trace_id in traces:
                        override = conn.execute("SELECT success FROM outcomes WHERE trace_id = ?",
                                                (trace_id,)).fetchone()
                        run = assemble_run(self._load_spans(conn, trace_id),
                                           evaluations=self._load_evaluations(conn, trace_id),
                                           api_outcome=None if override is None else bool(override[0]))
                        if run is None:
                            conn.execute("DELETE FROM runs WHERE trace_id = ?", (trace_id,))
                            continue
                        conn.execute(f"INSERT OR REPLACE INTO runs({_codec.RUN_COLUMNS}) VALUES "
                                     "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _codec.run_row(run))
                    conn.executemany("DELETE FROM dirty_traces WHERE trace_id = ?", [(t,) for t in traces])
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise StoreError(f"cannot assemble runs in {self.path}: {exc}") from exc
        return len(traces)

    def _load_spans(self, conn: sqlite3.Connection, trace_id: str) -> list[SpanRecord]:
        rows = conn.execute(
            f"SELECT {_codec.SPAN_COLUMNS}, resource_id FROM spans WHERE trace_id = ? ORDER BY start_ns",
            (trace_id,),
        ).fetchall()
        resources: dict[int, Any] = {}
        out = []
        for row in rows:
            rid = row[-1]
            if rid not in resources:
                text = conn.execute("SELECT attributes FROM resources WHERE id = ?", (rid,)).fetchone()[0]
                resources[rid] = _codec.loads(text)
            out.append(_codec.span_from_row(row[:-1], resources[rid]))
        return out

    @staticmethod
    def _load_evaluations(conn: sqlite3.Connection, trace_id: str) -> list[EvaluationRecord]:
        rows = conn.execute(
            f"SELECT {_codec.EVALUATION_COLUMNS} FROM evaluations WHERE trace_id = ? ORDER BY time_ns",
            (trace_id,),
        ).fetchall()
        return [_codec.evaluation_from_row(row) for row in rows]

    @contextmanager
    def _fresh(self) -> Iterator[sqlite3.Connection]:
        """A reader connection, after the runs of every trace with new spans are re-assembled."""
        if self.pending_refresh():
            self.refresh_runs()
        with self._reading() as conn:
            yield conn

    # --- reading -------------------------------------------------------------------------------------
    def spans_for_trace(self, trace_id: str) -> list[SpanRecord]:
        with self._reading() as conn:
            return self._load_spans(conn, trace_id)

    def count_spans(self) -> int:
        with self._reading() as conn:
            return int(conn.execute("SELECT count(*) FROM spans").fetchone()[0])

    def get_run(self, trace_id: str) -> Run | None:
        with self._fresh() as conn:
            row = conn.execute(f"SELECT {_codec.RUN_COLUMNS} FROM runs WHERE trace_id = ?",
                               (trace_id,)).fetchone()
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
        where, params = self._run_filter(agent, with_outcome=with_outcome, include_pending=include_pending,
                                         since_unix_nano=since_unix_nano)
        sql = f"SELECT {_codec.RUN_COLUMNS} FROM runs{where} ORDER BY started_ns DESC, trace_id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self._fresh() as conn:
            return [_codec.run_from_row(r) for r in conn.execute(sql, params)]

    @staticmethod
    def _run_filter(agent: str | None, *, with_outcome: bool = False, include_pending: bool = False,
                    since_unix_nano: int | None = None) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if agent is not None:
            clauses.append("agent = ?")
            params.append(agent)
        if with_outcome:
            clauses.append("outcome IS NOT NULL")
        if not include_pending:
            clauses.append("complete = 1")
        if since_unix_nano is not None:
            clauses.append("started_ns >= ?")
            params.append(int(since_unix_nano))
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def iter_runs(self, agent: str) -> Iterator[Run]:
        """See ``Store.iter_runs``; read in chunks from a connection of its own."""
        if self.pending_refresh():
            self.refresh_runs()
        conn = self._connect()
        try:
            cur = conn.execute(
                f"SELECT {_codec.RUN_COLUMNS} FROM runs WHERE agent = ? AND complete = 1 "
                "ORDER BY started_ns, trace_id", (agent,))
            while True:
                rows = cur.fetchmany(_ITER_FETCH)
                if not rows:
                    break
                for row in rows:
                    yield _codec.run_from_row(row)
        finally:
            conn.close()

    def agents(self) -> list[str]:
        with self._fresh() as conn:
            return [r[0] for r in conn.execute("SELECT DISTINCT agent FROM runs ORDER BY agent")]

    def count_runs(self, agent: str | None = None, *, since_unix_nano: int | None = None) -> int:
        where, params = self._run_filter(agent, since_unix_nano=since_unix_nano)
        with self._fresh() as conn:
            return int(conn.execute(f"SELECT count(*) FROM runs{where}", params).fetchone()[0])

    def set_outcome(self, trace_id: str, success: bool, submission: str | None = None) -> bool:
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                known = conn.execute("SELECT 1 FROM spans WHERE trace_id = ? LIMIT 1", (trace_id,)).fetchone()
                if known is not None:
                    conn.execute(
                        "INSERT OR REPLACE INTO outcomes(trace_id, success, submission, set_ns) VALUES (?, ?, ?, ?)",
                        (trace_id, int(success), submission, time.time_ns()))
                    conn.execute("UPDATE runs SET outcome = ?, outcome_source = 'api' WHERE trace_id = ?",
                                 (int(success), trace_id))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return known is not None

    def write_evaluations(self, records: Sequence[EvaluationRecord]) -> int:
        """See ``Store.write_evaluations``."""
        if not records:
            return 0
        now = time.time_ns()
        with self._write_lock:
            conn = self._writer
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    before = conn.total_changes
                    conn.executemany(
                        f"INSERT OR IGNORE INTO evaluations({_codec.EVALUATION_COLUMNS}, received_ns) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [(*_codec.evaluation_row(r), now) for r in records],
                    )
                    stored = conn.total_changes - before
                    conn.executemany("INSERT OR IGNORE INTO dirty_traces(trace_id) VALUES (?)",
                                     [(t,) for t in {r.trace_id for r in records}])
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise StoreError(f"cannot write evaluations to {self.path}: {exc}") from exc
        return stored

    def evaluations_for_trace(self, trace_id: str) -> list[EvaluationRecord]:
        with self._reading() as conn:
            return self._load_evaluations(conn, trace_id)

    def submission(self, trace_id: str) -> str | None:
        """The submission recorded with a late outcome, if any."""
        with self._reading() as conn:
            row = conn.execute("SELECT submission FROM outcomes WHERE trace_id = ?", (trace_id,)).fetchone()
        return None if row is None else row[0]

    # --- assessments ---------------------------------------------------------------------------------
    def save_assessment(self, assessment: Assessment) -> None:
        a = assessment
        with self._write_lock:
            self._writer.execute(
                f"INSERT OR REPLACE INTO assessments({_codec.ASSESSMENT_COLUMNS}, ts_ns) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (a.request_id, a.agent_name, float(a.reasoning_quality), int(a.should_replan),
                 int(a.should_deepen_reasoning), a.timestamp, _codec.assessment_body(a), _iso_to_ns(a.timestamp)),
            )

    def get_assessment(self, request_id: str, agent_name: str = "meta-agent") -> Assessment | None:
        with self._reading() as conn:
            row = conn.execute(
                f"SELECT {_codec.ASSESSMENT_COLUMNS} FROM assessments WHERE request_id = ? AND agent_name = ?",
                (request_id, agent_name)).fetchone()
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
        clauses: list[str] = []
        params: list[Any] = []
        for clause, value in (("reasoning_quality >= ?", min_quality), ("reasoning_quality <= ?", max_quality),
                              ("should_replan = ?", should_replan), ("should_deepen = ?", should_deepen)):
            if value is not None:
                clauses.append(clause)
                params.append(int(value) if isinstance(value, bool) else float(value))
        if start is not None:
            clauses.append("ts_ns >= ?")
            params.append(_iso_to_ns(start))
        if end is not None:
            clauses.append("ts_ns <= ?")
            params.append(_iso_to_ns(end))
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        with self._reading() as conn:
            rows = conn.execute(
                f"SELECT {_codec.ASSESSMENT_COLUMNS} FROM assessments{where} ORDER BY ts_ns DESC, request_id",
                params).fetchall()
        return [_codec.assessment_from_row(r) for r in rows]

    # --- lifecycle -----------------------------------------------------------------------------------
    def healthy(self, timeout_s: float = 2.0) -> bool:
        """``True`` while a write transaction can be opened on the file within ``timeout_s``.

        A probe (``/healthz``) must answer quickly: it waits at most ``timeout_s`` for the write lock
        (ours, then SQLite's), not the store's long busy timeout; a writer holding the file longer than
        that is reported as unhealthy.
        """
        if self._closed or not self._write_lock.acquire(timeout=timeout_s):
            return False
        try:
            self._writer.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
            try:
                self._writer.execute("BEGIN IMMEDIATE")
                self._writer.execute("ROLLBACK")
            finally:
                self._writer.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
            return True
        except sqlite3.Error:
            return False
        finally:
            self._write_lock.release()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        with self._write_lock:
            self._writer.close()

    def __enter__(self) -> SqliteStore:  # noqa: PYI034 - typing.Self needs 3.11
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"

