"""The assembly step: dirty traces → runs.

Storing a span (or an evaluation) marks its trace dirty; ``RunAssembler`` reads the dirty traces'
inputs from the store, turns them into ``Run``s with the conventions layer and saves them. The store
holds no assembly logic and its reads never assemble; the receiver's assembler thread runs this step
after each acknowledged group commit and when idle (``analyzers.receiver.assembler``, whose read barrier
lets a reader wait for it), the SDK exporter after each export.

No trace can stop assembly: a trace whose spans the conventions layer cannot read is assembled from the
spans it can read (or keeps its previous run), and the failure is logged and counted in ``errors``.
Several replicas may assemble at once: ``Store.save_runs`` keeps only results whose trace was not
marked again meanwhile.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from analyzers.conventions import assemble_run
from analyzers.errors import StoreError
from analyzers.model import Run, SpanRecord
from analyzers.store.base import AssembledRun, DirtyTrace, Store, TraceInputs

logger = logging.getLogger(__name__)

_BATCH = 256


class RunAssembler:
    """Assembles the runs of dirty traces in ``store``; ``errors`` counts traces that failed to assemble."""

    def __init__(self, store: Store, *, batch: int = _BATCH) -> None:
        self.store = store
        self.batch = batch
        self.errors = 0
        self._lock = threading.Lock()

    def pending(self) -> bool:
        """``True`` while some trace waits to be assembled."""
        return bool(self.store.dirty_traces(1))

    def assemble_pending(self, max_traces: int | None = None, *, among: Sequence[str] | None = None) -> int:
        """Assemble dirty traces (only those in ``among``, when given); return how many were processed."""
        done = 0
        while max_traces is None or done < max_traces:
            limit = self.batch if max_traces is None else min(self.batch, max_traces - done)
            traces = self.store.dirty_traces(limit, among=among)
            if not traces:
                break
            inputs = self._inputs(traces)
            self.store.save_runs([self._assemble(t, inputs.get(t.trace_id)) for t in traces])
            done += len(traces)
            if len(traces) < limit:
                break
        return done

    def _inputs(self, traces: list[DirtyTrace]) -> dict[str, TraceInputs]:
        try:
            return self.store.trace_inputs([t.trace_id for t in traces])
        except StoreError:
            raise
        except Exception:  # noqa: BLE001 - some trace's rows cannot be decoded: read them one by one
            found: dict[str, TraceInputs] = {}
            for t in traces:
                try:
                    found.update(self.store.trace_inputs([t.trace_id]))
                except StoreError:
                    raise
                except Exception as exc:  # noqa: BLE001 - that trace keeps its previous run
                    self._failed(t.trace_id, exc)
            return found

    def _assemble(self, trace: DirtyTrace, inputs: TraceInputs | None) -> AssembledRun:
        if inputs is None:
            return AssembledRun(trace, None, failed=True)
        try:
            return AssembledRun(trace, _run(inputs, inputs.spans))
        except Exception as exc:  # noqa: BLE001 - degrade this run, never stop assembly
            self._failed(trace.trace_id, exc)
        readable = [s for s in inputs.spans if _assembles(inputs, s)]
        try:
            return AssembledRun(trace, _run(inputs, readable), failed=True)
        except Exception:  # noqa: BLE001 - already counted; keep the previous run
            return AssembledRun(trace, None, failed=True)

    def _failed(self, trace_id: str, exc: BaseException) -> None:
        with self._lock:
            self.errors += 1
        logger.error("cannot assemble the run of trace %s (%s: %s); assembling it from its readable spans",
                     trace_id, type(exc).__name__, exc)


def _run(inputs: TraceInputs, spans: list[SpanRecord]) -> Run | None:
    return assemble_run(spans, evaluations=inputs.evaluations, api_outcome=inputs.api_outcome)


def _assembles(inputs: TraceInputs, span: SpanRecord) -> bool:
    try:
        _run(inputs, [span])
    except Exception:  # noqa: BLE001 - this span is the one the conventions layer cannot read
        logger.warning("span %s of trace %s is left out of its run: the conventions layer cannot read it",
                       span.span_id, span.trace_id)
        return False
    return True
