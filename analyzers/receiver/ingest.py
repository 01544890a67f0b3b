"""``IngestQueue``: the single writer between the receiver's request threads and the store.

Request threads ``submit`` their decoded spans and wait (at most ``timeout`` seconds); one writer
thread takes everything queued (up to ``group_spans``), commits it in one transaction (group commit:
one fsync for many requests) and wakes each waiting request with its result as soon as the commit is
done. Assembly never runs before an acknowledgement: the group's traces go to the ``AssemblerThread``
(``analyzers.receiver.assembler``), which assembles their runs after the ack, coalesced under load;
``await_assembled`` is the read barrier that lets a reader see the runs of every span acknowledged
before it. The queue is bounded in spans, so memory stays bounded under overload: a request that does
not fit is refused at once with ``OverloadedError`` (HTTP 503 / gRPC UNAVAILABLE, both retried by the
OTLP exporters).

One request cannot fail its neighbours: when a group's commit fails, each of its requests is committed
again on its own, so only the requests whose spans the store refuses get the error. The writer thread
never dies on an error; if it stops anyway, ``health()`` says so and ``submit`` refuses at once
(``health()`` also says when the assembler thread has stopped; ingest goes on without it).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from analyzers.errors import OverloadedError, StoreError
from analyzers.model import SpanRecord
from analyzers.receiver.assembler import READ_BARRIER_S, AssemblerThread
from analyzers.store.base import Store

logger = logging.getLogger(__name__)

SUBMIT_TIMEOUT_S = 30.0


@dataclass
class _Pending:
    spans: Sequence[SpanRecord]
    done: threading.Event = field(default_factory=threading.Event)
    stored: int = 0
    error: BaseException | None = None


class IngestQueue:
    """Group-committing writer. ``submit`` returns after the spans are committed."""

    def __init__(self, store: Store, *, max_queued_spans: int = 100_000, group_spans: int = 20_000) -> None:
        self.store = store
        self.assembly = AssemblerThread(store)
        self.max_queued_spans = max_queued_spans
        self.group_spans = group_spans
        self._queue: deque[_Pending] = deque()
        self._queued_spans = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._died: str | None = None
        self._thread = threading.Thread(target=self._run, name="otel-meta-ingest-writer", daemon=True)

    def start(self) -> None:
        self.assembly.start()
        self._thread.start()

    def submit(self, spans: Sequence[SpanRecord], timeout: float | None = SUBMIT_TIMEOUT_S) -> int:
        """Queue ``spans`` for the next commit and wait for it; return how many were committed.

        Raises ``OverloadedError`` when the queue is full or the commit takes over ``timeout`` seconds
        (the spans may still be committed: an exporter's retry is deduplicated), ``StoreError`` when the
        store refused them.
        """
        if not spans:
            return 0
        item = _Pending(spans)
        with self._cond:
            if self._died is not None:
                raise StoreError(f"the ingest writer has stopped ({self._died}); restart the analyzer")
            if self._stopping:
                raise OverloadedError("the analyzer is shutting down; retry against another replica")
            if self._queued_spans and self._queued_spans + len(spans) > self.max_queued_spans:
                raise OverloadedError(
                    f"the write queue is full ({self._queued_spans} spans waiting); retry later")
            self._queue.append(item)
            self._queued_spans += len(spans)
            self._cond.notify()
        self.assembly.note_load()
        if not item.done.wait(timeout):
            raise OverloadedError(f"the store did not commit within {timeout:g} s; retry later")
        if item.error is not None:
            raise item.error
        return item.stored

    @property
    def queued_spans(self) -> int:
        return self._queued_spans

    def await_assembled(self, timeout: float = READ_BARRIER_S) -> bool:
        """The read barrier: wait until the runs of every span acknowledged before this call are
        assembled (``AssemblerThread.await_assembled``)."""
        return self.assembly.await_assembled(timeout)

    def health(self) -> str | None:
        """``None`` while the writer and assembler threads run, else why one does not."""
        if self._died is not None:
            return f"the ingest writer has stopped: {self._died}"
        if self._thread.ident is not None and not self._thread.is_alive() and not self._stopping:
            return "the ingest writer has stopped"
        return self.assembly.health()

    def _take(self) -> list[_Pending] | None:
        with self._cond:
            while not self._queue and not self._stopping:
                self._cond.wait()
            if not self._queue:
                return None
            group: list[_Pending] = []
            n = 0
            while self._queue and (not group or n + len(self._queue[0].spans) <= self.group_spans):
                item = self._queue.popleft()
                group.append(item)
                n += len(item.spans)
            return group

    def _run(self) -> None:
        try:
            while (group := self._take()) is not None:
                try:
                    self.assembly.throttle()  # assembly far behind: ack at its pace; its backlog stays bounded
                    self._commit(group)
                finally:
                    with self._cond:
                        self._queued_spans -= sum(len(item.spans) for item in group)
                    for item in group:
                        if not item.done.is_set():
                            item.error = item.error or StoreError("the ingest writer failed; retry later")
                            item.done.set()
        except BaseException as exc:  # the writer must never die silently: health and submit say so
            logger.critical("the ingest writer stopped: %s", exc, exc_info=True)
            with self._cond:
                self._died = f"{type(exc).__name__}: {exc}"
                waiting = list(self._queue)
                self._queue.clear()
            for item in waiting:
                item.error = StoreError(f"the ingest writer has stopped ({self._died})")
                item.done.set()

    def _commit(self, group: list[_Pending]) -> None:
        error = self._write([s for item in group for s in item.spans])
        if error is not None and len(group) > 1:
            for item in group:  # find the requests the store refuses; commit the others
                item.error = self._write(item.spans)
        else:
            for item in group:
                item.error = error
        self.assembly.committed(s.trace_id for item in group if item.error is None for s in item.spans)
        for item in group:
            item.stored = 0 if item.error else len(item.spans)
            item.done.set()

    def _write(self, spans: Sequence[SpanRecord]) -> BaseException | None:
        try:
            self.store.write_spans(spans)
        except Exception as exc:  # noqa: BLE001 - reported to the waiting requests
            logger.error("committing %d spans failed: %s", len(spans), exc)
            return exc if isinstance(exc, StoreError) else StoreError(f"committing spans failed: {exc}")
        return None

    def stop(self, timeout: float = 30.0) -> None:
        """Commit what is queued, stop the writer thread, then assemble what was committed and stop the
        assembler (so a clean stop leaves no run unassembled)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.assembly.stop(timeout)
