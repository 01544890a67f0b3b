"""``SqliteStore``: the embedded store (one SQLite file in WAL mode).

Durability: ``synchronous=FULL``. In WAL mode FULL fsyncs the write-ahead log at every commit, so a
committed transaction survives a power loss as well as a ``kill -9``; NORMAL would survive a process
crash only (the last commits may roll back after an OS crash), which is weaker than what an OTLP
acknowledgement promises. The receiver commits many requests in one transaction (group commit), so the
cost is one fsync per group, not per request. ``synchronous="NORMAL"`` can be passed for throwaway
stores.

Writes go through one connection under a lock (``_transaction``); reads use a small pool of reader
connections, which WAL lets run beside the writer. Runs are not assembled here: ``write_spans`` marks
traces dirty and ``analyzers.assembly`` turns them into runs through ``dirty_traces`` / ``trace_inputs``
/ ``save_runs``.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from analyzers.errors import (
    StoreCorruptError,
    StoreError,
    StoreFullError,
    StoreLocationError,
    StoreVersionError,
)
from analyzers.model import Assessment, EvaluationRecord, Run, SpanRecord
from analyzers.store import _codec
from analyzers.store import _sqlite_conversations as conversation_sql
from analyzers.store._schema import MIGRATIONS, REQUIRED_TABLES, SCHEMA_VERSION
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
_RESOURCE_CACHE_MAX = 4096
_READER_POOL_MAX = 8

_SPAN_INSERT = (
    "INSERT OR IGNORE INTO spans(trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns, status_code,"
    " status_message, resource_id, scope_name, scope_version, body, received_ns)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_MARK_DIRTY = ("INSERT INTO dirty_traces(trace_id, gen) VALUES (?, 1)"
               " ON CONFLICT(trace_id) DO UPDATE SET gen = gen + 1")
_RUN_UPSERT = (f"INSERT OR REPLACE INTO runs({_codec.RUN_COLUMNS}) VALUES "
               f"({', '.join('?' * len(_codec.RUN_COLUMNS.split(', ')))})")
_EVALUATION_INSERT = (f"INSERT OR IGNORE INTO evaluations({_codec.EVALUATION_COLUMNS}, received_ns) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")


def _fix(code: str | None, path: Path) -> tuple[type[StoreError], str]:
    """The error class and the advice for an SQLite error code."""
    if code == "SQLITE_FULL":
        return StoreFullError, "free disk space, then retry"
    if code in ("SQLITE_CORRUPT", "SQLITE_NOTADB"):
        return StoreCorruptError, (f"{path} is not an intact otel-meta store; restore it from a backup, "
                                   "or move it aside to start a new one")
    if code in ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH"):
        return StoreLocationError, (f"make {path.parent} and {path.name} writable by this user, "
                                    "or choose another --db")
    if code == "SQLITE_BUSY":
        return StoreError, "another process holds the store's write lock; retry later"
    return StoreError, "check the disk and the file, then retry"


def _on_read_only_fs(directory: Path) -> bool:
    """Whether ``directory`` refuses a new file with EROFS: asked of the kernel itself, since ext4's
    emergency read-only state (after a disk error) is not in ``statvfs``' flags on recent kernels."""
    try:
        with tempfile.TemporaryFile(dir=directory):
            return False
    except OSError as exc:
        return exc.errno == errno.EROFS


class SqliteStore:
    """The ``Store`` on one SQLite file. Safe to use from several threads and processes.

    The file's directory must exist (``create_parent=True`` creates it, for embedded stores at a
    default path); the file itself is created when missing.
    """

    def __init__(self, path: str | Path, *, synchronous: str = "FULL", busy_timeout_s: float = 30.0,
                 create_parent: bool = False) -> None:
        if synchronous.upper() not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError(f"synchronous must be FULL, NORMAL or EXTRA, not {synchronous!r}")
        self.path = Path(path)
        self._synchronous = synchronous.upper()
        self._busy_timeout_ms = int(busy_timeout_s * 1000)
        self._write_lock = threading.Lock()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._resource_ids: dict[str, int] = {}
        self._last_write_error: str | None = None
        self._closed = False
        self._check_location(create_parent)
        try:
            self._writer = self._connect()
        except sqlite3.Error as exc:
            raise self._error("open the store", exc) from exc
        try:
            self._migrate()
        except BaseException:
            self._writer.close()
            raise

    def _check_location(self, create_parent: bool) -> None:
        if self.path.is_dir():
            raise StoreLocationError(f"cannot open the store at {self.path}: it is a directory; "
                                     f"give a file path such as {self.path / 'analyzer.db'}")
        parent = self.path.parent
        if not parent.is_dir():
            if not create_parent:
                raise StoreLocationError(f"cannot open the store at {self.path}: directory {parent} does not "
                                         f"exist; create it (mkdir -p {parent}) or choose another --db")
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreLocationError(f"cannot create the store's directory {parent}: "
                                         f"{exc.strerror or exc}; choose another --db") from exc
        if not os.access(parent, os.W_OK):
            raise StoreLocationError(f"cannot open the store at {self.path}: directory {parent} is read-only "
                                     "(SQLite needs to create its -wal and -shm files beside the store); "
                                     "make it writable or choose another --db")

    def _error(self, what: str, exc: sqlite3.Error) -> StoreError:
        """A ``StoreError`` (subclass) that keeps SQLite's own message and says what to do."""
        code = getattr(exc, "sqlite_errorname", None)
        cls, fix = _fix(code, self.path)
        if str(code).startswith(("SQLITE_IOERR", "SQLITE_READONLY")) and _on_read_only_fs(self.path.parent):
            # SQLite says only "disk I/O error" when write() fails with EROFS
            cls, fix = StoreLocationError, (f"read-only file system: {self.path.parent} is on a file system "
                                            "mounted read-only (the kernel remounts one so after a disk error; "
                                            "see its log); make it writable again, or choose another --db")
        return cls(f"cannot {what} at {self.path}: {exc}; {fix}")

    # --- connections and transactions ----------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                               timeout=self._busy_timeout_ms / 1000)
        try:
            conn.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreLocationError(f"{self.path}: SQLite refused WAL mode (got {mode}); "
                                         "put the store on a local file system")
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            conn.execute("PRAGMA foreign_keys=ON")
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def _transaction(self, what: str) -> Iterator[sqlite3.Connection]:
        """The writer connection inside ``BEGIN IMMEDIATE`` … ``COMMIT``; driver errors become
        ``StoreError``s that keep their real cause (a failed ``ROLLBACK`` never hides it)."""
        with self._write_lock:
            if self._closed:
                raise StoreError(f"the store at {self.path} is closed")
            conn = self._writer
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback(conn)
                error = self._error(what, exc)
                if getattr(exc, "sqlite_errorname", None) != "SQLITE_BUSY":
                    self._last_write_error = str(error)
                raise error from exc
            except BaseException:
                self._rollback(conn)
                raise
            self._last_write_error = None

    def _rollback(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:  # SQLite has already rolled back after e.g. SQLITE_FULL
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error as exc:
                logger.warning("rollback at %s failed: %s", self.path, exc)
        self._resource_ids.clear()

    @contextmanager
    def _reading(self, what: str = "read the store") -> Iterator[sqlite3.Connection]:
        """A reader connection from the pool (WAL lets readers run beside the writer)."""
        if self._closed:
            raise StoreError(f"the store at {self.path} is closed")
        with self._readers_lock:
            conn = self._readers.pop() if self._readers else None
        try:
            if conn is None:
                conn = self._connect()
            yield conn
        except sqlite3.Error as exc:
            raise self._error(what, exc) from exc
        finally:
            if conn is not None:
                with self._readers_lock:
                    if self._closed or len(self._readers) >= _READER_POOL_MAX:
                        conn.close()
                    else:
                        self._readers.append(conn)

    def _migrate(self) -> None:
        with self._transaction("read the schema version") as conn:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StoreVersionError(
                f"{self.path} has schema version {version}, newer than this otel-meta ({SCHEMA_VERSION}); "
                "upgrade otel-meta to read it")
        for number in range(version + 1, SCHEMA_VERSION + 1):
            logger.info("migrating %s to schema version %d", self.path, number)
            with self._transaction(f"migrate to schema version {number}") as conn:
                if int(conn.execute("PRAGMA user_version").fetchone()[0]) >= number:
                    continue  # another process migrated first
                for statement in MIGRATIONS[number - 1].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version={number}")

    @property
    def schema_version(self) -> int:
        with self._reading() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    # --- storing -------------------------------------------------------------------------------------
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
        """See ``Store.write_spans``."""
        if not spans:
            return 0
        check_span_values(spans)
        now = time.time_ns()
        bodies = [_codec.span_body(s) for s in spans]
        with self._transaction("write spans") as conn:
            rows = []
            resource_ids: dict[int, int] = {}
            for s, body in zip(spans, bodies):
                res = s.resource_attributes
                rid = resource_ids.get(id(res))
                if rid is None:
                    rid = resource_ids[id(res)] = self._resource_id(conn, res)
                rows.append((s.trace_id, s.span_id, s.parent_span_id, s.name, s.kind, s.start_time_unix_nano,
                             s.end_time_unix_nano, s.status_code, s.status_message, rid, s.scope_name,
                             s.scope_version, body, now))
            before = conn.total_changes
            conn.executemany(_SPAN_INSERT, rows)
            stored = conn.total_changes - before
            traces = sorted({s.trace_id for s in spans})
            conn.executemany(_MARK_DIRTY, [(t,) for t in traces])
            conversation_sql.index(conn, spans, traces)
        return stored

    def write_evaluations(self, records: Sequence[EvaluationRecord]) -> int:
        """See ``Store.write_evaluations``."""
        if not records:
            return 0
        now = time.time_ns()
        rows = [(*_codec.evaluation_row(r), now) for r in records]
        with self._transaction("write evaluations") as conn:
            before = conn.total_changes
            conn.executemany(_EVALUATION_INSERT, rows)
            stored = conn.total_changes - before
            traces = sorted({r.trace_id for r in records})
            conn.executemany(_MARK_DIRTY, [(t,) for t in traces])
            conversation_sql.mark(conn, traces)
        return stored

    def set_outcome(self, trace_id: str, success: bool, submission: str | None = None) -> bool:
        """See ``Store.set_outcome``."""
        with self._transaction("set an outcome") as conn:
            known = conn.execute("SELECT 1 FROM spans WHERE trace_id = ? LIMIT 1", (trace_id,)).fetchone()
            if known is not None:
                conn.execute("INSERT OR REPLACE INTO outcomes(trace_id, success, submission, set_ns)"
                             " VALUES (?, ?, ?, ?)", (trace_id, int(success), submission, time.time_ns()))
                conn.execute("UPDATE runs SET outcome = ?, outcome_source = 'api' WHERE trace_id = "
                             + conversation_sql.RUN_OF_TRACE, (int(success), trace_id, trace_id))
                if conversation_sql.indexed(conn, trace_id):  # re-assembly must read it with the others'
                    conn.execute(_MARK_DIRTY, (trace_id,))
                    conversation_sql.mark(conn, [trace_id])
        return known is not None

    def save_assessment(self, assessment: Assessment) -> None:
        """See ``Store.save_assessment``."""
        row = _codec.assessment_row(assessment)
        with self._transaction("save an assessment") as conn:
            conn.execute(f"INSERT OR REPLACE INTO assessments({_codec.ASSESSMENT_COLUMNS}, ts_ns) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)

    # --- assembly ------------------------------------------------------------------------------------
    def dirty_traces(self, limit: int, *, among: Sequence[str] | None = None) -> list[DirtyTrace]:
        """See ``Store.dirty_traces``."""
        with self._reading("list dirty traces") as conn:
            if among is None:
                rows = conn.execute("SELECT trace_id, gen FROM dirty_traces LIMIT ?", (int(limit),)).fetchall()
            else:
                rows = [row for t in sorted(set(among)) for row in
                        conn.execute("SELECT trace_id, gen FROM dirty_traces WHERE trace_id = ?", (t,))][:limit]
        return [DirtyTrace(t, g) for t, g in rows]

    def trace_inputs(self, trace_ids: Sequence[str]) -> dict[str, TraceInputs]:
        """See ``Store.trace_inputs``."""
        found: dict[str, TraceInputs] = {}
        with self._reading("read traces") as conn:
            conn.execute("BEGIN")  # one snapshot for all of them
            try:
                for trace_id in trace_ids:
                    found[trace_id] = self._trace_inputs(conn, trace_id)
            finally:
                conn.execute("ROLLBACK")
        return found

    def _trace_inputs(self, conn: sqlite3.Connection, trace_id: str) -> TraceInputs:
        row = conn.execute("SELECT success, set_ns FROM outcomes WHERE trace_id = ?", (trace_id,)).fetchone()
        return TraceInputs(self._load_spans(conn, trace_id), self._load_evaluations(conn, trace_id),
                           None if row is None else bool(row[0]), None if row is None else int(row[1]),
                           *conversation_sql.grouping(conn, trace_id))

    def conversation_inputs(self, conversation_ids: Sequence[str]) -> dict[str, ConversationInputs]:
        """See ``Store.conversation_inputs``."""
        found: dict[str, ConversationInputs] = {}
        with self._reading("read conversations") as conn:
            conn.execute("BEGIN")  # one snapshot for all of them
            try:
                for cid in sorted(set(conversation_ids)):
                    if (known := conversation_sql.members(conn, cid)) is not None:
                        found[cid] = ConversationInputs(cid, known[0], {t: self._trace_inputs(conn, t)
                                                                        for t in known[1]})
            finally:
                conn.execute("ROLLBACK")
        return found

    def save_runs(self, assembled: Sequence[AssembledRun],
                  conversations: Sequence[AssembledConversation] = ()) -> int:
        """See ``Store.save_runs``."""
        saved = 0
        with self._transaction("save assembled runs") as conn:
            for item in assembled:
                trace = item.trace
                cur = conn.execute("DELETE FROM dirty_traces WHERE trace_id = ? AND gen = ?",
                                   (trace.trace_id, trace.generation))
                if cur.rowcount != 1:
                    continue  # marked again since it was read: the next pass assembles it
                if item.run is None:
                    if not item.failed:
                        conn.execute("DELETE FROM runs WHERE trace_id = ? AND conversation_id IS NULL",
                                     (trace.trace_id,))
                else:
                    conn.execute(_RUN_UPSERT, _codec.run_row(item.run))
                saved += 1
            for grouped in sorted(conversations, key=lambda g: g.conversation_id):
                saved += conversation_sql.save(conn, grouped, _RUN_UPSERT)
        return saved

    def import_runs(self, runs: Iterable[Run], *, batch: int = 10_000) -> int:
        """Store runs assembled elsewhere, with no spans behind them (a benchmark's synthetic runs), in
        transactions of ``batch`` runs, consuming ``runs`` as a stream; return how many were stored."""
        done = 0
        for chunk in _batched(runs, batch):
            with self._transaction("import runs") as conn:
                conn.executemany(_RUN_UPSERT, [_codec.run_row(r) for r in chunk])
            done += len(chunk)
        return done

    # --- reading -------------------------------------------------------------------------------------
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
        rows = conn.execute(f"SELECT {_codec.EVALUATION_COLUMNS} FROM evaluations WHERE trace_id = ?"
                            " ORDER BY time_ns, name", (trace_id,)).fetchall()
        return [_codec.evaluation_from_row(r) for r in rows]

    def spans_for_trace(self, trace_id: str) -> list[SpanRecord]:
        with self._reading() as conn:
            return self._load_spans(conn, trace_id)

    def evaluations_for_trace(self, trace_id: str) -> list[EvaluationRecord]:
        with self._reading() as conn:
            return self._load_evaluations(conn, trace_id)

    def count_spans(self) -> int:
        with self._reading() as conn:
            return int(conn.execute("SELECT count(*) FROM spans").fetchone()[0])

    def get_run(self, trace_id: str) -> Run | None:
        with self._reading() as conn:
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
        where, params = _codec.run_filter("?", agent, with_outcome=with_outcome, include_pending=include_pending,
                                          since_unix_nano=since_unix_nano)
        sql = f"SELECT {_codec.RUN_COLUMNS} FROM runs{where} ORDER BY started_ns DESC, trace_id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self._reading() as conn:
            return [_codec.run_from_row(r) for r in conn.execute(sql, params)]

    def iter_runs(self, agent: str, *, batch: int = _ITER_BATCH) -> Iterator[Run]:
        """See ``Store.iter_runs``: keyset-paginated batches, each read from a pooled connection that
        is given back before the batch is yielded (no read snapshot is held between batches)."""
        def fetch(after: tuple[int, str], limit: int) -> list[Any]:
            with self._reading("read runs") as conn:
                return conn.execute(
                    f"SELECT {_codec.RUN_COLUMNS} FROM runs WHERE agent = ? AND complete = 1"
                    " AND (started_ns, trace_id) > (?, ?) ORDER BY started_ns, trace_id LIMIT ?",
                    (agent, after[0], after[1], limit)).fetchall()

        return _codec.run_pages(fetch, batch)

    def agents(self) -> list[str]:
        with self._reading() as conn:
            return [r[0] for r in conn.execute("SELECT DISTINCT agent FROM runs ORDER BY agent")]

    def count_runs(self, agent: str | None = None, *, since_unix_nano: int | None = None) -> int:
        where, params = _codec.run_filter("?", agent, since_unix_nano=since_unix_nano)
        with self._reading() as conn:
            return int(conn.execute(f"SELECT count(*) FROM runs{where}", params).fetchone()[0])

    def submission(self, trace_id: str) -> str | None:
        with self._reading() as conn:
            row = conn.execute("SELECT submission FROM outcomes WHERE trace_id = ?", (trace_id,)).fetchone()
        return None if row is None else row[0]

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
        low, high = quality_bounds(min_quality, max_quality)
        where, params = _codec.assessment_filter("?", low, high, should_replan, should_deepen, start, end)
        with self._reading() as conn:
            rows = conn.execute(f"SELECT {_codec.ASSESSMENT_COLUMNS} FROM assessments{where}"
                                " ORDER BY ts_ns DESC, request_id", params).fetchall()
        return [_codec.assessment_from_row(r) for r in rows]

    # --- lifecycle -----------------------------------------------------------------------------------
    def health(self, timeout_s: float = 2.0) -> str | None:
        """See ``Store.health``: commits a real (one-page) write and checks every table is there.

        It waits at most ``timeout_s`` for the write lock (ours, then SQLite's), not the store's long
        busy timeout; a writer holding the file longer than that is reported.
        """
        if self._closed:
            return f"the store at {self.path} is closed"
        if not self._write_lock.acquire(timeout=timeout_s):
            return f"the store's write lock at {self.path} was busy for over {timeout_s:g} s"
        conn = self._writer
        try:
            conn.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
            conn.execute("BEGIN IMMEDIATE")
            try:
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                missing = sorted(REQUIRED_TABLES - tables)
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
                conn.execute(f"PRAGMA user_version={version}")  # rewrites the header page: a real write
                conn.execute("COMMIT")
            finally:
                self._rollback(conn)
            if missing:
                return f"the store at {self.path} lacks its table(s) {', '.join(missing)}; restore it from a backup"
            return self._last_write_error
        except sqlite3.Error as exc:
            return str(self._error("write", exc))
        finally:
            try:
                conn.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
            except sqlite3.Error:
                pass
            self._write_lock.release()

    def healthy(self, timeout_s: float = 2.0) -> bool:
        """``health() is None``."""
        return self.health(timeout_s) is None

    @contextmanager
    def learning_lock(self, name: str) -> Iterator[bool]:
        """See ``Store.learning_lock``: an exclusive ``flock`` on ``<store>.learn-<name>.lock``."""
        lock_path = self.path.with_name(f"{self.path.name}.learn-{name}.lock")
        with open(lock_path, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

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
