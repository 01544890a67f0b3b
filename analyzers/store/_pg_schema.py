"""The PostgreSQL schema, as numbered migrations; table ``otel_meta_schema`` records the version applied.

``PostgresStore`` applies the missing migrations on start, each in its own transaction under a
transaction-level advisory lock, so replicas starting together migrate once. A database newer than this
code is refused. The numbering is this backend's own; both backends hold the same data.
Bodies are ``text`` (not ``jsonb``): JSON's NaN/Infinity and every attribute value are kept as they came.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: spans kept whole, runs derived from them, late outcomes, judge assessments.
    """
    CREATE TABLE resources (
        id BIGSERIAL PRIMARY KEY,
        digest TEXT NOT NULL UNIQUE,
        attributes TEXT NOT NULL
    );
    CREATE TABLE spans (
        trace_id TEXT NOT NULL,
        span_id TEXT NOT NULL,
        parent_span_id TEXT,
        name TEXT NOT NULL,
        kind INTEGER NOT NULL,
        start_ns BIGINT NOT NULL,
        end_ns BIGINT NOT NULL,
        status_code INTEGER NOT NULL,
        status_message TEXT NOT NULL,
        resource_id BIGINT NOT NULL REFERENCES resources(id),
        scope_name TEXT NOT NULL,
        scope_version TEXT NOT NULL,
        body TEXT NOT NULL,
        received_ns BIGINT NOT NULL,
        PRIMARY KEY (trace_id, span_id)
    );
    CREATE TABLE dirty_traces (trace_id TEXT PRIMARY KEY, gen BIGINT NOT NULL);
    CREATE TABLE runs (
        trace_id TEXT PRIMARY KEY,
        agent TEXT NOT NULL,
        outcome INTEGER,
        started_ns BIGINT NOT NULL,
        duration_ms DOUBLE PRECISION NOT NULL,
        steps TEXT NOT NULL,
        prompt_version TEXT,
        prompt_commit TEXT,
        problem_id TEXT,
        request_id TEXT,
        complete INTEGER NOT NULL
    );
    CREATE INDEX runs_by_agent ON runs(agent, started_ns, trace_id);
    CREATE INDEX runs_by_start ON runs(started_ns);
    CREATE TABLE outcomes (
        trace_id TEXT PRIMARY KEY,
        success INTEGER NOT NULL,
        submission TEXT,
        set_ns BIGINT NOT NULL
    );
    CREATE TABLE assessments (
        request_id TEXT NOT NULL,
        agent_name TEXT NOT NULL,
        reasoning_quality DOUBLE PRECISION NOT NULL,
        should_replan INTEGER NOT NULL,
        should_deepen INTEGER NOT NULL,
        timestamp TEXT NOT NULL,
        ts_ns BIGINT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (request_id, agent_name)
    );
    CREATE INDEX assessments_by_time ON assessments(ts_ns);
    """,
    # 2: where each run's outcome came from, and evaluators' records (span_id '' when only the trace).
    """
    CREATE TABLE evaluations (
        trace_id TEXT NOT NULL,
        span_id TEXT NOT NULL,
        name TEXT NOT NULL,
        score_value DOUBLE PRECISION,
        score_label TEXT,
        explanation TEXT,
        time_ns BIGINT NOT NULL,
        attributes TEXT NOT NULL,
        received_ns BIGINT NOT NULL,
        UNIQUE (trace_id, span_id, name, time_ns)
    );
    ALTER TABLE runs ADD COLUMN outcome_source TEXT;
    """,
    # 3: runs grouped by gen_ai.conversation.id across traces (see the SQLite schema's migration 4).
    # Spans stored before are indexed from their bodies' text, as there (bodies may hold NaN, which json
    # refuses; an id with a JSON escape is skipped).
    """
    CREATE TABLE conversation_traces (
        conversation_id TEXT NOT NULL,
        trace_id TEXT NOT NULL,
        PRIMARY KEY (conversation_id, trace_id)
    );
    CREATE INDEX conversation_traces_by_trace ON conversation_traces(trace_id, conversation_id);
    CREATE TABLE conversations (
        conversation_id TEXT PRIMARY KEY,
        gen BIGINT NOT NULL,
        assembled_gen BIGINT NOT NULL DEFAULT 0
    );
    CREATE TABLE run_traces (
        trace_id TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL
    );
    CREATE INDEX run_traces_by_conversation ON run_traces(conversation_id);
    ALTER TABLE runs ADD COLUMN conversation_id TEXT;
    ALTER TABLE runs ADD COLUMN trace_ids TEXT;
    CREATE UNIQUE INDEX runs_by_conversation ON runs(conversation_id) WHERE conversation_id IS NOT NULL;
    INSERT INTO conversation_traces(conversation_id, trace_id)
        SELECT DISTINCT c, trace_id FROM (
            SELECT substring(body from '"gen_ai\\.conversation\\.id":"([^"\\\\]+)"') AS c, trace_id
            FROM spans WHERE strpos(body, '"gen_ai.conversation.id":"') > 0) AS found
        WHERE c IS NOT NULL
        ON CONFLICT DO NOTHING;
    INSERT INTO conversations(conversation_id, gen)
        SELECT DISTINCT conversation_id, 1 FROM conversation_traces;
    INSERT INTO dirty_traces(trace_id, gen)
        SELECT DISTINCT trace_id, 1 FROM conversation_traces
        ON CONFLICT (trace_id) DO UPDATE SET gen = dirty_traces.gen + 1;
    """,
    # 4: the fallback task key of a run (problem context or first user message digest) and its source.
    """
    ALTER TABLE runs ADD COLUMN task_key TEXT;
    ALTER TABLE runs ADD COLUMN task_key_source TEXT;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)

REQUIRED_TABLES = ("resources", "spans", "dirty_traces", "runs", "outcomes", "assessments", "evaluations",
                   "conversation_traces", "conversations", "run_traces")
