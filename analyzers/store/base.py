"""The store interface: its docstrings are the contract every backend is tested against.

``SqliteStore`` (one file, the embedded default) and ``PostgresStore`` (one database shared by several
analyzer replicas) implement it; ``tests/analyzers/store/test_contract.py`` runs the same suite on both.

A store has three parts, kept apart:

- **storing**: ``write_spans``, ``write_evaluations``, ``set_outcome``, ``save_assessment``. Each returns
  only after its transaction is committed (the receiver acknowledges a request after that). Storing a
  span or an evaluation marks its trace *dirty*.
- **assembly** (dirty traces → runs): ``dirty_traces``, ``trace_inputs``, ``conversation_inputs``,
  ``save_runs``. The store holds no assembly logic; ``analyzers.assembly.RunAssembler`` drives them.
- **reading**: everything else. A read never writes.

Every method is safe to call from several threads, and several processes may share one store. Every
driver error surfaces as ``analyzers.errors.StoreError`` (or a subclass) whose message keeps the real
cause and says what to do.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol, TypeVar, runtime_checkable

from analyzers.model import QUALITY_DIGITS, Assessment, EvaluationRecord, Run, SpanRecord, returned_quality

INT64_MAX = (1 << 63) - 1
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DirtyTrace:
    """A trace whose run must be (re)assembled; ``generation`` grows each time the trace is marked."""

    trace_id: str
    generation: int


@dataclass(frozen=True, slots=True)
class TraceInputs:
    """Everything a trace's run is assembled from."""

    spans: list[SpanRecord]
    evaluations: list[EvaluationRecord] = field(default_factory=list)
    api_outcome: bool | None = None
    #: When the API outcome was set (Unix ns): a conversation's run takes its traces' latest.
    api_outcome_ns: int | None = None
    #: The conversations the trace's spans name (``gen_ai.conversation.id``), sorted.
    conversation_ids: tuple[str, ...] = ()
    #: The conversation whose stored run lists this trace, if any.
    grouped_in: str | None = None


@dataclass(frozen=True, slots=True)
class ConversationInputs:
    """Every trace that names one conversation, read in one snapshot; ``generation`` grows each time
    one of them is marked dirty (or the conversation gains a trace)."""

    conversation_id: str
    generation: int
    traces: dict[str, TraceInputs]


@dataclass(frozen=True, slots=True)
class AssembledConversation:
    """The run of one conversation's agent-less traces (``None``: none of them is left), assembled
    from its ``ConversationInputs`` of ``generation``."""

    conversation_id: str
    generation: int
    run: Run | None


@dataclass(frozen=True, slots=True)
class AssembledRun:
    """The result of assembling one dirty trace: its ``run`` (``None``: the trace holds no run).

    ``failed``: the conventions layer could not read some of the trace's spans; ``run`` is what the
    readable ones give, and with ``run`` ``None`` the previously stored run is kept.
    """

    trace: DirtyTrace
    run: Run | None
    failed: bool = False


@runtime_checkable
class Store(Protocol):
    # --- storing ---------------------------------------------------------------------------------------
    def write_spans(self, spans: Sequence[SpanRecord]) -> int:
        """Commit ``spans`` and mark their traces dirty, in one transaction; return how many were new.

        The same transaction indexes each span's ``gen_ai.conversation.id`` (conversation → traces)
        and advances the generation of every conversation the written traces are indexed under.

        A span already stored (same trace and span id, e.g. an exporter's retry) is kept as it was.
        Attribute values are stored as they came (NaN, infinities, maps that look like encoded values).
        A value the store cannot hold (an integer time over 2^63-1) raises ``SpanValueError`` before
        anything is written.
        """

    def write_evaluations(self, records: Sequence[EvaluationRecord]) -> int:
        """Commit evaluators' ``gen_ai.evaluation.result`` records (from OTLP logs) and mark their traces
        dirty; return how many were new. A record already stored (same trace, span, name and time: an
        exporter's retry) is kept as it was. The assembly step maps them to an outcome
        (``analyzers.conventions.OutcomeRule``; precedence api > span > evaluation)."""

    def set_outcome(self, trace_id: str, success: bool, submission: str | None = None) -> bool:
        """Upsert a run's API outcome (it overrides span and evaluation outcomes) and apply it to the
        stored run at once; ``False`` when the trace is unknown (no span of it is stored).

        The stored run is the one ``get_run(trace_id)`` returns: for a trace grouped into a
        conversation's run, that run (the latest outcome set on any of its traces wins). A trace
        indexed under a conversation is also marked dirty, so re-assembly keeps the outcome.
        """

    def save_assessment(self, assessment: Assessment) -> None:
        """Upsert by (request id, agent name)."""

    # --- assembly (dirty traces -> runs; driven by analyzers.assembly) --------------------------------
    def dirty_traces(self, limit: int, *, among: Sequence[str] | None = None) -> list[DirtyTrace]:
        """Up to ``limit`` traces marked dirty (only those in ``among``, when given)."""

    def trace_inputs(self, trace_ids: Sequence[str]) -> dict[str, TraceInputs]:
        """The spans (by start time), evaluations and API outcome of each trace, read at once."""

    def conversation_inputs(self, conversation_ids: Sequence[str]) -> dict[str, ConversationInputs]:
        """The inputs of every trace indexed under each conversation, with the conversation's
        generation, in one snapshot; an unknown conversation is left out."""

    def save_runs(self, assembled: Sequence[AssembledRun],
                  conversations: Sequence[AssembledConversation] = ()) -> int:
        """For each result whose trace is still marked with the same generation: store its run (or
        delete the trace's own run when ``run`` is ``None`` and not ``failed``; a conversation's run
        keyed by that trace stays) and clear the mark. A trace marked again meanwhile (new spans,
        possibly on another replica) is left dirty and untouched.

        For each conversation result newer than the one stored (its ``generation`` is higher than
        that of the last saved): replace the conversation's run (``None``: delete it), delete the
        one-trace runs of the traces it lists, and point those traces at it (``get_run``). An older
        result, from a replica that read the conversation before another saved it, is dropped.

        All in one transaction. Return how many runs were saved."""

    # --- reading ---------------------------------------------------------------------------------------
    def spans_for_trace(self, trace_id: str) -> list[SpanRecord]:
        """Every stored span of one trace, ordered by start time."""

    def evaluations_for_trace(self, trace_id: str) -> list[EvaluationRecord]:
        """Every stored evaluation record of one trace, oldest first."""

    def count_spans(self) -> int:
        """How many spans are stored."""

    def get_run(self, trace_id: str) -> Run | None:
        """The assembled run of one trace (pending or complete), or ``None``; for any trace of a
        conversation's run, that run."""

    def list_runs(
        self,
        agent: str | None = None,
        limit: int | None = None,
        *,
        with_outcome: bool = False,
        include_pending: bool = False,
        since_unix_nano: int | None = None,
    ) -> list[Run]:
        """Assembled runs, newest first; ``with_outcome`` keeps only runs whose outcome is known."""

    def iter_runs(self, agent: str, *, batch: int = 1000) -> Iterable[Run]:
        """Every complete run of one agent, ordered by (start time, trace id), read ``batch`` runs at
        a time as the iterator is consumed (``ValueError`` at once for a ``batch`` below 1).

        Memory stays bounded by one batch whatever the number of runs, and no connection,
        transaction or snapshot is held between batches, so writers, other readers and SQLite's WAL
        checkpoints carry on while a consumer (the miner) works through a million runs. Pages are
        keyset-paginated on (start time, trace id): each run stored before the iteration began (and
        not re-assembled meanwhile) is yielded exactly once, and a run stored meanwhile is yielded
        when it sorts after the runs already yielded."""

    def agents(self) -> list[str]:
        """The names of the agents that have at least one run."""

    def count_runs(self, agent: str | None = None, *, since_unix_nano: int | None = None) -> int:
        """How many complete runs (with any outcome) there are."""

    def submission(self, trace_id: str) -> str | None:
        """The submission recorded with an API outcome, if any."""

    def get_assessment(self, request_id: str, agent_name: str = "meta-agent") -> Assessment | None:
        """One assessment by (request id, agent name), or ``None``."""

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
        """Newest first. ``min_quality``/``max_quality`` compare the quality as ``Assessment.to_json``
        returns it (rounded), so a value this API returned selects its assessment; ``start``/``end``
        are ISO 8601 timestamps (inclusive)."""

    # --- lifecycle -------------------------------------------------------------------------------------
    def health(self) -> str | None:
        """``None`` while the store can be written (a real write is committed), else why not.

        Answers within a few seconds: a probe must not wait the store's long lock timeouts.
        """

    def healthy(self) -> bool:
        """``health() is None``."""

    def learning_lock(self, name: str) -> AbstractContextManager[bool]:
        """Held while a learning cycle named ``name`` runs: yields ``True`` when this caller got it,
        ``False`` when another process (or thread) holds it; never waits."""

    def close(self) -> None:
        """Release connections; later calls raise ``StoreError``."""

    def __enter__(self) -> Store:  # noqa: PYI034 - typing.Self needs 3.11
        """The store itself; leaving the ``with`` block closes it."""

    def __exit__(self, *exc: object) -> None: ...


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size``, consumed as a stream."""
    it = iter(items)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def check_span_values(spans: Iterable[SpanRecord]) -> None:
    """Raise ``SpanValueError`` for a span whose times or codes do not fit the store's 64-bit integers."""
    from analyzers.errors import SpanValueError

    for s in spans:
        for what, value in (("start time", s.start_time_unix_nano), ("end time", s.end_time_unix_nano),
                            ("kind", s.kind), ("status code", s.status_code)):
            if not -INT64_MAX - 1 <= value <= INT64_MAX:
                raise SpanValueError(
                    f"span {s.span_id} of trace {s.trace_id}: {what} {value} is over 2^63-1; "
                    "send Unix nanoseconds (a time before the year 2262)")


def quality_bounds(min_quality: float | None, max_quality: float | None) -> tuple[float | None, float | None]:
    """The stored-quality bounds that select exactly the assessments whose *returned* quality
    (``Assessment.returned_quality``, rounded) lies within ``[min_quality, max_quality]``."""
    low = None if min_quality is None else _first_where(lambda q: returned_quality(q) >= min_quality,
                                                        min_quality)
    high = None if max_quality is None else -_first_where(lambda q: returned_quality(-q) <= max_quality,
                                                          -max_quality)
    return low, high


def _first_where(holds: Callable[[float], bool], near: float) -> float:
    """The smallest double ``q`` near ``near`` (within one rounding step) for which the monotone ``holds(q)``."""
    if not math.isfinite(near):
        return near
    step = 10.0 ** -QUALITY_DIGITS
    below, above = near - 2 * step, near + 2 * step
    for _ in range(200):  # bisection over doubles ends at two neighbours well before this
        middle = (below + above) / 2
        if middle in (below, above):
            break
        if holds(middle):
            above = middle
        else:
            below = middle
    return above
