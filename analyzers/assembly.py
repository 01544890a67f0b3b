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

A trace with no agent span that names a ``gen_ai.conversation.id`` (``conventions.conversation_of``) has
no run of its own: it is part of its conversation's run, which is assembled again from all of that
conversation's traces whenever one of them is (a late call, an evaluation, an API outcome). That run is
saved only when it was read at a later conversation generation than the stored one, so replicas that
assemble the same conversation at once converge on the newest.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import replace

from analyzers.conventions import assemble_conversation, assemble_run, conversation_of
from analyzers.errors import StoreError
from analyzers.model import Run, SpanRecord
from analyzers.store.base import (
    AssembledConversation,
    AssembledRun,
    ConversationInputs,
    DirtyTrace,
    Store,
    TraceInputs,
)

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
            assembled = [self._assemble(t, inputs.get(t.trace_id)) for t in traces]
            regroup = sorted({c for t in traces if t.trace_id in inputs for c in _regrouped(inputs[t.trace_id])})
            self.store.save_runs(assembled, self._conversations(regroup) if regroup else ())
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

    def _conversations(self, conversation_ids: list[str]) -> list[AssembledConversation]:
        """The runs of these conversations, read at once. One whose spans the conventions layer cannot
        all read is assembled from those it can (logged and counted); one that cannot be read keeps its
        stored run."""
        try:
            found = self.store.conversation_inputs(conversation_ids)
        except StoreError:
            raise
        except Exception:  # noqa: BLE001 - some trace's rows cannot be decoded: read them one by one
            found = {}
            for cid in conversation_ids:
                try:
                    found.update(self.store.conversation_inputs([cid]))
                except StoreError:
                    raise
                except Exception as exc:  # noqa: BLE001 - that conversation keeps its stored run
                    self._failed(f"conversation {cid}", exc)
        out = []
        for cid, conversation in sorted(found.items()):
            try:
                out.append(AssembledConversation(cid, conversation.generation, _conversation_run(conversation)))
                continue
            except Exception as exc:  # noqa: BLE001 - degrade this run, never stop assembly
                self._failed(f"conversation {cid}", exc)
            readable = {t: replace(inputs, spans=[s for s in inputs.spans if _joins(cid, s)])
                        for t, inputs in conversation.traces.items()}
            try:
                out.append(AssembledConversation(cid, conversation.generation,
                                                 _conversation_run(replace(conversation, traces=readable))))
            except Exception:  # noqa: BLE001 - already counted
                logger.warning("conversation %s keeps its stored run", cid)
        return out

    def _assemble(self, trace: DirtyTrace, inputs: TraceInputs | None) -> AssembledRun:
        if inputs is None:
            return AssembledRun(trace, None, failed=True)
        try:
            if inputs.conversation_ids and conversation_of(inputs.spans) is not None:
                return AssembledRun(trace, None)  # part of its conversation's run, none of its own
            return AssembledRun(trace, _run(inputs, inputs.spans))
        except Exception as exc:  # noqa: BLE001 - degrade this run, never stop assembly
            self._failed(trace.trace_id, exc)
        readable = [s for s in inputs.spans if _assembles(inputs, s)]
        try:
            return AssembledRun(trace, _run(inputs, readable), failed=True)
        except Exception:  # noqa: BLE001 - already counted; keep the previous run
            return AssembledRun(trace, None, failed=True)

    def _failed(self, what: str, exc: BaseException) -> None:
        with self._lock:
            self.errors += 1
        logger.error("cannot assemble the run of %s (%s: %s); assembling it from its readable spans",
                     what if what.startswith("conversation ") else f"trace {what}", type(exc).__name__, exc)


def _run(inputs: TraceInputs, spans: list[SpanRecord]) -> Run | None:
    return assemble_run(spans, evaluations=inputs.evaluations, api_outcome=inputs.api_outcome)


def _regrouped(inputs: TraceInputs) -> set[str]:
    """The conversations whose run must be assembled again with this trace's: the one it joins now,
    and the one whose stored run lists it (which it may have left, e.g. its agent span arrived)."""
    if not inputs.conversation_ids:
        return {inputs.grouped_in} if inputs.grouped_in else set()
    try:
        joins = conversation_of(inputs.spans)
    except Exception:  # noqa: BLE001 - an unreadable span: assemble every conversation it names (and log there)
        return {*inputs.conversation_ids, *filter(None, [inputs.grouped_in])}
    return {c for c in (joins, inputs.grouped_in) if c is not None}


def _conversation_run(conversation: ConversationInputs) -> Run | None:
    members = [t for t in conversation.traces.values() if conversation_of(t.spans) == conversation.conversation_id]
    outcomes = sorted((t.api_outcome_ns or 0, t.api_outcome) for t in members if t.api_outcome is not None)
    return assemble_conversation(conversation.conversation_id, [t.spans for t in members],
                                 evaluations=[e for t in members for e in t.evaluations],
                                 api_outcome=outcomes[-1][1] if outcomes else None)


def _joins(conversation_id: str, span: SpanRecord) -> bool:
    """Whether the conventions layer can read ``span`` as part of a conversation's run."""
    try:
        conversation_of([span])
        assemble_conversation(conversation_id, [[span]])
    except Exception:  # noqa: BLE001 - this span is the one the conventions layer cannot read
        logger.warning("span %s of trace %s is left out of its conversation's run: the conventions layer "
                       "cannot read it", span.span_id, span.trace_id)
        return False
    return True


def _assembles(inputs: TraceInputs, span: SpanRecord) -> bool:
    try:
        _run(inputs, [span])
    except Exception:  # noqa: BLE001 - this span is the one the conventions layer cannot read
        logger.warning("span %s of trace %s is left out of its run: the conventions layer cannot read it",
                       span.span_id, span.trace_id)
        return False
    return True
