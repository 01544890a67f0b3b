"""The SQLite schema, as numbered migrations. ``PRAGMA user_version`` records the version applied.

A new schema version appends a migration here; ``SqliteStore`` applies the missing ones in order, each
in its own transaction, when it opens a database. A database newer than this code is refused.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: spans kept whole, runs derived from them, late outcomes, judge assessments.
    """
    CREATE TABLE resources (
        id INTEGER PRIMARY KEY,
        digest TEXT NOT NULL UNIQUE,
        attributes TEXT NOT NULL
    );
    CREATE TABLE spans (
        trace_id TEXT NOT NULL,
        span_id TEXT NOT NULL,
        parent_span_id TEXT,
        name TEXT NOT NULL,
        kind INTEGER NOT NULL,
        start_ns INTEGER NOT NULL,
        end_ns INTEGER NOT NULL,
        status_code INTEGER NOT NULL,
        status_message TEXT NOT NULL,
        resource_id INTEGER NOT NULL REFERENCES resources(id),
        scope_name TEXT NOT NULL,
        scope_version TEXT NOT NULL,
        body TEXT NOT NULL,
        received_ns INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX spans_by_trace ON spans(trace_id, span_id);
    CREATE TABLE dirty_traces (trace_id TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TABLE runs (
        trace_id TEXT PRIMARY KEY,
        agent TEXT NOT NULL,
        outcome INTEGER,
        started_ns INTEGER NOT NULL,
        duration_ms REAL NOT NULL,
        steps TEXT NOT NULL,
        prompt_version TEXT,
        prompt_commit TEXT,
        problem_id TEXT,
        request_id TEXT,
        complete INTEGER NOT NULL
    );
    CREATE INDEX runs_by_agent ON runs(agent, started_ns);
    CREATE INDEX runs_by_start ON runs(started_ns);
    CREATE TABLE outcomes (
        trace_id TEXT PRIMARY KEY,
        success INTEGER NOT NULL,
        submission TEXT,
        set_ns INTEGER NOT NULL
    );
    CREATE TABLE assessments (
        request_id TEXT NOT NULL,
        agent_name TEXT NOT NULL,
        reasoning_quality REAL NOT NULL,
        should_replan INTEGER NOT NULL,
        should_deepen INTEGER NOT NULL,
        timestamp TEXT NOT NULL,
        ts_ns INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (request_id, agent_name)
    );
    CREATE INDEX assessments_by_time ON assessments(ts_ns);
    """,
    # 2: where each run's outcome came from, and evaluators' gen_ai.evaluation.result records (from
    # OTLP logs) kept whole; span_id is '' when a record names only its trace.
    """
    ALTER TABLE runs ADD COLUMN outcome_source TEXT;
    UPDATE runs SET outcome_source = 'api' WHERE trace_id IN (SELECT trace_id FROM outcomes);
    UPDATE runs SET outcome_source = 'span' WHERE outcome IS NOT NULL AND outcome_source IS NULL;
    CREATE TABLE evaluations (
        trace_id TEXT NOT NULL,
        span_id TEXT NOT NULL,
        name TEXT NOT NULL,
        score_value REAL,
        score_label TEXT,
        explanation TEXT,
        time_ns INTEGER NOT NULL,
        attributes TEXT NOT NULL,
        received_ns INTEGER NOT NULL,
        UNIQUE (trace_id, span_id, name, time_ns)
    );
    """,
    # 3: dirty marks that count, so an assembly that read a trace before more of its spans came (maybe
    # through another process) does not clear the trace's mark.
    """
    ALTER TABLE dirty_traces ADD COLUMN gen INTEGER NOT NULL DEFAULT 1;
    """,
    # 4: an agent's runs indexed in the order iter_runs pages through them (keyset pagination on
    # (started_ns, trace_id); with started_ns alone, runs that started at the same time need a sort).
    """
    CREATE INDEX runs_by_agent_key ON runs(agent, started_ns, trace_id);
    DROP INDEX runs_by_agent;
    """,
)

REQUIRED_TABLES = frozenset({"resources", "spans", "dirty_traces", "runs", "outcomes", "assessments",
                             "evaluations"})

SCHEMA_VERSION = len(MIGRATIONS)
