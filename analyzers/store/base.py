"""The store interface. ``SqliteStore`` implements it; a PostgreSQL store can implement it later.

Every method is safe to call from several threads. ``write_spans`` returns only after the spans are
durably committed: the receiver acknowledges a request after that call returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

from analyzers.model import Assessment, EvaluationRecord, Run, SpanRecord


@runtime_checkable
class Store(Protocol):
    # --- spans and runs (analyzers.store.sqlite; issue: ingest) -------------------------------------
    def write_spans(self, spans: Sequence[SpanRecord]) -> int:
        """Commit ``spans`` (and update the runs they belong to); return how many were new.

        A span already stored (same trace and span id, e.g. an exporter's retry) is kept as it was.
        """

    def spans_for_trace(self, trace_id: str) -> list[SpanRecord]:
        """Every stored span of one trace, ordered by start time."""

    def get_run(self, trace_id: str) -> Run | None:
        """The run of one trace (pending or complete), or ``None`` for an unknown trace."""

    def list_runs(
        self,
        agent: str | None = None,
        limit: int | None = None,
        *,
        with_outcome: bool = False,
        include_pending: bool = False,
        since_unix_nano: int | None = None,
    ) -> list[Run]:
        """Runs, newest first; ``with_outcome`` keeps only runs whose outcome is known."""

    def iter_runs(self, agent: str) -> Iterable[Run]:
        """Every complete run of one agent, oldest first, streamed (for mining large stores)."""

    def agents(self) -> list[str]:
        """The names of the agents that have at least one run."""

    def count_runs(self, agent: str | None = None, *, since_unix_nano: int | None = None) -> int:
        """How many complete runs (with any outcome) there are."""

    def set_outcome(self, trace_id: str, success: bool, submission: str | None = None) -> bool:
        """Set or override a run's outcome (source ``api``, which outranks the spans' own and any
        evaluation); ``False`` when the trace is unknown (no span of it is stored)."""

    def write_evaluations(self, records: Sequence[EvaluationRecord]) -> int:
        """Commit evaluators' ``gen_ai.evaluation.result`` records (from OTLP logs); return how many were new.

        Returns only after the records are committed; a record already stored (same trace, span, name
        and time: an exporter's retry) is kept as it was. Their traces' runs are re-assembled, so an
        outcome rule can map them (``analyzers.conventions.OutcomeRule``).
        """

    def evaluations_for_trace(self, trace_id: str) -> list[EvaluationRecord]:
        """Every stored evaluation record of one trace, oldest first."""

    # --- assessments (analyzers.assessor) ------------------------------------------------------------
    def save_assessment(self, assessment: Assessment) -> None:
        """Upsert by (request id, agent name)."""

    def get_assessment(self, request_id: str, agent_name: str = "meta-agent") -> Assessment | None: ...

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
        """Newest first; ``start``/``end`` are ISO 8601 timestamps (inclusive)."""

    def healthy(self) -> bool:
        """``True`` while the store can be written."""

    def close(self) -> None: ...
