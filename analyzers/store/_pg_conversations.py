"""``PostgresStore``'s statements for runs grouped by ``gen_ai.conversation.id`` across traces.

The tables are those of ``_sqlite_conversations`` (PostgreSQL schema 3). Rows are locked in key order
(conversations sorted), as everywhere in ``PostgresStore``, so concurrent writers do not deadlock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from analyzers.model import SpanRecord
from analyzers.store import _codec
from analyzers.store.base import AssembledConversation

_INDEX = ("INSERT INTO conversation_traces(conversation_id, trace_id)"
          " SELECT * FROM unnest(%s::text[], %s::text[]) ON CONFLICT DO NOTHING")
_MARK = ("INSERT INTO conversations(conversation_id, gen) SELECT DISTINCT conversation_id, 1"
         " FROM conversation_traces WHERE trace_id = ANY(%s) ORDER BY conversation_id"
         " ON CONFLICT (conversation_id) DO UPDATE SET gen = conversations.gen + 1")
#: The key of the run ``get_run(%s)`` answers: the conversation's run it belongs to, else its own.
RUN_OF_TRACE = "COALESCE((SELECT run_id FROM run_traces WHERE trace_id = %s), %s)"

Connection = psycopg.Connection[Any]


def index(conn: Connection, spans: Sequence[SpanRecord], traces: list[str]) -> None:
    """Index the conversations ``spans`` name (NUL, which text columns refuse, as U+FFFD), then mark
    every conversation of ``traces``."""
    pairs = [(c.replace("\x00", "\ufffd"), t) for c, t in _codec.conversation_pairs(spans)]
    if pairs:
        conn.execute(_INDEX, ([c for c, _ in pairs], [t for _, t in pairs]))
    mark(conn, traces)


def mark(conn: Connection, traces: list[str]) -> None:
    conn.execute(_MARK, (traces,))


def indexed(conn: Connection, trace_id: str) -> bool:
    return conn.execute("SELECT 1 FROM conversation_traces WHERE trace_id = %s LIMIT 1", (trace_id,)).fetchone() is not None


def grouping(conn: Connection, ids: list[str]) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """The conversations each trace names, and the one whose stored run lists it."""
    named: dict[str, list[str]] = {}
    for t, cid in conn.execute("SELECT trace_id, conversation_id FROM conversation_traces WHERE trace_id = ANY(%s)"
                               " ORDER BY trace_id, conversation_id", (ids,)):
        named.setdefault(t, []).append(cid)
    listed = dict(conn.execute("SELECT trace_id, conversation_id FROM run_traces WHERE trace_id = ANY(%s)", (ids,)))
    return {t: tuple(c) for t, c in named.items()}, listed


def members(conn: Connection, ids: list[str]) -> dict[str, tuple[int, list[str]]]:
    """Each known conversation's generation and traces."""
    gens = dict(conn.execute("SELECT conversation_id, gen FROM conversations WHERE conversation_id = ANY(%s)", (ids,)))
    traces: dict[str, list[str]] = {}
    for cid, t in conn.execute("SELECT conversation_id, trace_id FROM conversation_traces"
                               " WHERE conversation_id = ANY(%s) ORDER BY conversation_id, trace_id", (ids,)):
        traces.setdefault(cid, []).append(t)
    return {cid: (int(gen), traces.get(cid, [])) for cid, gen in gens.items()}


def save(conn: Connection, grouped: AssembledConversation, run_upsert: str) -> int:
    """Save one conversation's run if it is newer than the stored one (``Store.save_runs``)."""
    cid, gen = grouped.conversation_id, grouped.generation
    if conn.execute("UPDATE conversations SET assembled_gen = %s WHERE conversation_id = %s AND assembled_gen < %s",
                    (gen, cid, gen)).rowcount != 1:
        return 0  # another assembly read it later and saved first
    conn.execute("DELETE FROM runs WHERE conversation_id = %s", (cid,))
    conn.execute("DELETE FROM run_traces WHERE conversation_id = %s", (cid,))
    run = grouped.run
    if run is None:
        return 1
    traces = sorted(run.trace_ids or (run.trace_id,))
    conn.execute("DELETE FROM runs WHERE trace_id = ANY(%s)", (traces,))  # their one-trace runs
    conn.execute(run_upsert, _codec.run_row(run))
    conn.execute("INSERT INTO run_traces(trace_id, run_id, conversation_id) SELECT t, %s, %s FROM unnest(%s::text[]) AS t"
                 " ORDER BY t ON CONFLICT (trace_id) DO UPDATE SET run_id = EXCLUDED.run_id,"
                 " conversation_id = EXCLUDED.conversation_id", (run.trace_id, cid, traces))
    return 1
