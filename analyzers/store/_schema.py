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
    # 4: runs grouped by gen_ai.conversation.id across traces. conversation_traces indexes which traces
    # name a conversation; conversations counts marks (gen) and the generation of the run last saved
    # (assembled_gen), so an older assembly never replaces a newer one; run_traces points each trace of
    # a conversation's run at it. Spans stored before carry their ids too: index them from the bodies'
    # text (bodies may hold NaN, which SQLite's JSON functions refuse; an id with a JSON escape is
    # skipped) and mark their traces dirty.
    """
    CREATE TABLE conversation_traces (
        conversation_id TEXT NOT NULL,
        trace_id TEXT NOT NULL,
        PRIMARY KEY (conversation_id, trace_id)
    ) WITHOUT ROWID;
    CREATE INDEX conversation_traces_by_trace ON conversation_traces(trace_id, conversation_id);
    CREATE TABLE conversations (
        conversation_id TEXT PRIMARY KEY,
        gen INTEGER NOT NULL,
        assembled_gen INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE TABLE run_traces (
        trace_id TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX run_traces_by_conversation ON run_traces(conversation_id);
    ALTER TABLE runs ADD COLUMN conversation_id TEXT;
    ALTER TABLE runs ADD COLUMN trace_ids TEXT;
    CREATE UNIQUE INDEX runs_by_conversation ON runs(conversation_id) WHERE conversation_id IS NOT NULL;
    INSERT OR IGNORE INTO conversation_traces(conversation_id, trace_id)
        SELECT substr(rest, 1, instr(rest, '"') - 1), trace_id FROM (
            SELECT substr(body, instr(body, '"gen_ai.conversation.id":"') + 26) AS rest, trace_id
            FROM spans WHERE instr(body, '"gen_ai.conversation.id":"') > 0)
        WHERE instr(rest, '"') > 1 AND instr(substr(rest, 1, instr(rest, '"') - 1), char(92)) = 0;
    INSERT INTO conversations(conversation_id, gen)
        SELECT DISTINCT conversation_id, 1 FROM conversation_traces WHERE true;
    INSERT INTO dirty_traces(trace_id, gen)
        SELECT DISTINCT trace_id, 1 FROM conversation_traces WHERE true
        ON CONFLICT(trace_id) DO UPDATE SET gen = gen + 1;
    """,
    # 5: the fallback task key of a run (problem context or first user message digest) and its source.
    """
    ALTER TABLE runs ADD COLUMN task_key TEXT;
    ALTER TABLE runs ADD COLUMN task_key_source TEXT;
    """,
    # 6: an agent's runs indexed in the order iter_runs pages through them (keyset pagination on
    # (started_ns, trace_id); with started_ns alone, runs that started at the same time need a sort).
    """
    CREATE INDEX runs_by_agent_key ON runs(agent, started_ns, trace_id);
    DROP INDEX runs_by_agent;
    """,
)

REQUIRED_TABLES = frozenset({"resources", "spans", "dirty_traces", "runs", "outcomes", "assessments",
                             "evaluations", "conversation_traces", "conversations", "run_traces"})

SCHEMA_VERSION = len(MIGRATIONS)
