"""Imported runs and how they become OpenTelemetry spans.

The dataset readers (``tau_bench``, ``mini_swe_agent``) produce ``ImportedRun``s: plain data with
explicit step times. ``export_runs`` writes them as spans of the project's span contract (the shapes
live in ``otel_meta._spans``) through a ``TracerProvider`` of its own, never the global one, to any SDK
``SpanExporter``: the real OTLP/HTTP exporter (``otlp_exporter``) or ``StoreSpanExporter``. Trace and
span ids are derived from each run's key, so importing the same file twice yields the same ids.
No trace text (messages, arguments, results, reasoning) is written; only tool names, outcomes, error
types and reasoning lengths.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import Tracer, set_span_in_context

from analyzers.model import Run, Step, StepKind
from otel_meta import _spans, semconv
from otel_meta._problem import ProblemContext

logger = logging.getLogger(__name__)

#: The instrumentation scope of imported spans.
SCOPE = "analyzers.importers"
#: Longest tool name kept (longer first words of shell commands are cut).
MAX_TOOL_NAME = 64


@dataclass(frozen=True)
class ImportedStep:
    """One step with explicit times (ns since the epoch). ``chars`` is a thinking step's length;
    ``provider`` an LLM step's ``gen_ai.provider.name``."""

    kind: StepKind
    name: str
    ok: bool
    start_ns: int
    end_ns: int
    error_type: str | None = None
    chars: int | None = None
    provider: str | None = None


@dataclass(frozen=True)
class ImportedRun:
    """One episode or instance of a dataset, ready to be written as one trace."""

    key: str
    agent: str
    problem_id: str
    outcome: bool | None
    start_ns: int
    end_ns: int
    steps: tuple[ImportedStep, ...]

    @property
    def trace_id(self) -> str:
        """The trace id the run is exported under (derived from ``key``)."""
        return format(_trace_id(self.key), "032x")

    def to_run(self) -> Run:
        """The ``Run`` the analyzer assembles from this run's spans (for mining without a store)."""
        return Run(
            trace_id=self.trace_id,
            agent=self.agent,
            outcome=self.outcome,
            started_at_unix_nano=self.start_ns,
            duration_ms=(self.end_ns - self.start_ns) / 1e6,
            steps=tuple(
                Step(s.kind, s.name, s.ok, (s.end_ns - s.start_ns) / 1e6, s.start_ns, s.error_type, s.chars)
                for s in self.steps
            ),
            problem_id=self.problem_id,
        )


def tool_name(raw: str) -> str:
    """A tool name as imported: stripped and cut to ``MAX_TOOL_NAME`` characters."""
    return raw.strip()[:MAX_TOOL_NAME] or "unknown"


def _trace_id(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:16], "big") or 1


class _KeyedIds(IdGenerator):
    """Trace and span ids derived from the key of the run being exported (one export at a time)."""

    def __init__(self) -> None:
        self._trace = 1
        self._rng = random.Random(0)

    def begin(self, key: str) -> None:
        self._trace = _trace_id(key)
        self._rng = random.Random(key)

    def generate_trace_id(self) -> int:
        return self._trace

    def generate_span_id(self) -> int:
        return self._rng.getrandbits(64) or 1


class CountingExporter(SpanExporter):
    """Wraps an exporter and counts the spans it accepted and refused (the batch processor otherwise
    only logs a failed export)."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner
        self.exported = 0
        self.failed = 0
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = self.inner.export(spans)
        with self._lock:
            if result is SpanExportResult.SUCCESS:
                self.exported += len(spans)
            else:
                self.failed += len(spans)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


class _ChunkedProcessor(SpanProcessor):
    """Exports ended spans in chunks, synchronously, on the importing thread: unlike the batch
    processor it never drops a span when the importer outpaces the exporter."""

    def __init__(self, exporter: SpanExporter, chunk: int = 512) -> None:
        self._exporter = exporter
        self._chunk = chunk
        self._buffer: list[ReadableSpan] = []

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        self._buffer.append(span)
        if len(self._buffer) >= self._chunk:
            self.force_flush()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        if self._buffer:
            batch, self._buffer = self._buffer, []
            self._exporter.export(batch)
        return True

    def shutdown(self) -> None:
        self.force_flush()
        self._exporter.shutdown()


@dataclass(frozen=True)
class ExportSummary:
    runs: int
    spans: int
    failed_spans: int


def otlp_exporter(endpoint: str, *, token: str | None = None, timeout: float = 30.0) -> SpanExporter:
    """The real OTLP/HTTP (protobuf) exporter for a base URL (``/v1/traces`` is appended, as
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` does); ``token`` is sent as a bearer token."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    headers = {"Authorization": f"Bearer {token}"} if token else None
    return OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces", headers=headers, timeout=timeout)


def export_runs(runs: Iterable[ImportedRun], exporter: SpanExporter, *, service_name: str) -> ExportSummary:
    """Write every run as one trace to ``exporter``; return how many spans were accepted and refused."""
    ids = _KeyedIds()
    counting = CountingExporter(exporter)
    provider = TracerProvider(
        resource=Resource.create({semconv.SERVICE_NAME: service_name}), id_generator=ids
    )
    provider.add_span_processor(_ChunkedProcessor(counting))
    tracer = provider.get_tracer(SCOPE, schema_url=semconv.SCHEMA_URL)
    n_runs = 0
    try:
        for run in runs:
            ids.begin(run.key)
            _write_run(tracer, run)
            n_runs += 1
        provider.force_flush()
    finally:
        provider.shutdown()
    return ExportSummary(n_runs, counting.exported, counting.failed)


def _write_run(tracer: Tracer, run: ImportedRun) -> None:
    root = _spans.start_agent_span(
        tracer,
        run.agent,
        problem=ProblemContext(run.problem_id),
        start_time=run.start_ns,
    )
    ctx = set_span_in_context(root)
    for step in run.steps:
        if step.kind == "thinking":
            _spans.record_thinking(
                tracer, run.agent, chars=step.chars or 0, context=ctx,
                start_time=step.start_ns, end_time=step.end_ns,
            )
            continue
        if step.kind == "tool":
            span = _spans.start_tool_span(tracer, step.name, context=ctx, start_time=step.start_ns)
        else:
            span = _spans.start_llm_span(
                tracer, step.name, provider=step.provider or "unknown", context=ctx, start_time=step.start_ns
            )
        if not step.ok:
            _spans.set_error(span, step.error_type or semconv.ERROR_TYPE_OTHER)
        span.end(end_time=step.end_ns)
    if run.outcome is not None:
        _spans.set_outcome(root, run.outcome)
    root.end(end_time=run.end_ns)
