"""``SqliteStore``'s statements for runs grouped by ``gen_ai.conversation.id`` across traces.

Tables (schema 4): ``conversation_traces`` (which traces name which conversation, written with their
spans), ``conversations`` (``gen``: marks; ``assembled_gen``: the generation of the run last saved) and
``run_traces`` (each trace of a conversation's run → the run's key). ``SqliteStore`` calls these inside
its own transactions and snapshots; the contract is in ``analyzers.store.base``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from analyzers.model import SpanRecord
from analyzers.store import _codec
from analyzers.store.base import AssembledConversation

_INDEX = "INSERT OR IGNORE INTO conversation_traces(conversation_id, trace_id) VALUES (?, ?)"
# Advance the generation of every conversation a trace is indexed under (one row per conversation).
_MARK = ("INSERT INTO conversations(conversation_id, gen) SELECT DISTINCT conversation_id, 1"
         " FROM conversation_traces WHERE trace_id = ? ON CONFLICT(conversation_id) DO UPDATE SET gen = gen + 1")
#: The key of the run ``get_run(?)`` answers: the conversation's run it belongs to, else its own.
RUN_OF_TRACE = "COALESCE((SELECT run_id FROM run_traces WHERE trace_id = ?), ?)"


def index(conn: sqlite3.Connection, spans: Sequence[SpanRecord], traces: Sequence[str]) -> None:
    """Index the conversations ``spans`` name, then mark every conversation of ``traces``."""
    conn.executemany(_INDEX, _codec.conversation_pairs(spans))
    mark(conn, traces)


def mark(conn: sqlite3.Connection, traces: Sequence[str]) -> None:
    conn.executemany(_MARK, [(t,) for t in traces])


def indexed(conn: sqlite3.Connection, trace_id: str) -> bool:
    return conn.execute("SELECT 1 FROM conversation_traces WHERE trace_id = ? LIMIT 1", (trace_id,)).fetchone() is not None


def grouping(conn: sqlite3.Connection, trace_id: str) -> tuple[tuple[str, ...], str | None]:
    """The conversations a trace names, and the one whose stored run lists it."""
    named = tuple(r[0] for r in conn.execute(
        "SELECT conversation_id FROM conversation_traces WHERE trace_id = ? ORDER BY conversation_id", (trace_id,)))
    row = conn.execute("SELECT conversation_id FROM run_traces WHERE trace_id = ?", (trace_id,)).fetchone()
    return named, None if row is None else row[0]


def members(conn: sqlite3.Connection, conversation_id: str) -> tuple[int, list[str]] | None:
    """A conversation's generation and traces, or ``None`` when it is unknown."""
    row = conn.execute("SELECT gen FROM conversations WHERE conversation_id = ?", (conversation_id,)).fetchone()
    if row is None:
        return None
    traces = [r[0] for r in conn.execute(
        "SELECT trace_id FROM conversation_traces WHERE conversation_id = ? ORDER BY trace_id", (conversation_id,))]
    return int(row[0]), traces


def save(conn: sqlite3.Connection, grouped: AssembledConversation, run_upsert: str) -> int:
    """Save one conversation's run if it is newer than the stored one (``Store.save_runs``)."""
    cid, gen = grouped.conversation_id, grouped.generation
    if conn.execute("UPDATE conversations SET assembled_gen = ? WHERE conversation_id = ? AND assembled_gen < ?",
                    (gen, cid, gen)).rowcount != 1:
        return 0  # another assembly read it later and saved first
    conn.execute("DELETE FROM runs WHERE conversation_id = ?", (cid,))
    conn.execute("DELETE FROM run_traces WHERE conversation_id = ?", (cid,))
    run = grouped.run
    if run is None:
        return 1
    traces = [(t,) for t in run.trace_ids or (run.trace_id,)]
    conn.executemany("DELETE FROM runs WHERE trace_id = ?", traces)  # their one-trace runs
    conn.execute(run_upsert, _codec.run_row(run))
    conn.executemany("INSERT OR REPLACE INTO run_traces(trace_id, run_id, conversation_id) VALUES (?, ?, ?)",
                     [(t, run.trace_id, cid) for (t,) in traces])
    return 1
