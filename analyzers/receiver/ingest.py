"""``IngestQueue``: the single writer between the receiver's request threads and the store.

Request threads ``submit`` their decoded spans and wait; one writer thread takes everything queued
(up to ``group_spans``), commits it in one transaction (group commit: one fsync for many requests) and
then wakes each waiting request with its result. The queue is bounded in spans, so memory stays bounded
under overload: a request that does not fit is refused at once with ``OverloadedError`` (HTTP 503 /
gRPC UNAVAILABLE, both retried by the OTLP exporters). When idle, the writer assembles the runs of
traces that received spans.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from analyzers.errors import OverloadedError, StoreError
from analyzers.model import SpanRecord
from analyzers.store.base import Store

logger = logging.getLogger(__name__)

_IDLE_REFRESH_TRACES = 64


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
        self.max_queued_spans = max_queued_spans
        self.group_spans = group_spans
        self._queue: deque[_Pending] = deque()
        self._queued_spans = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="otel-meta-ingest-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, spans: Sequence[SpanRecord], timeout: float | None = None) -> int:
        """Queue ``spans`` for the next commit and wait for it; return how many were committed."""
        if not spans:
            return 0
        item = _Pending(spans)
        with self._cond:
            if self._stopping:
                raise OverloadedError("the analyzer is shutting down; retry against another replica")
            if self._queued_spans and self._queued_spans + len(spans) > self.max_queued_spans:
                raise OverloadedError(
                    f"the write queue is full ({self._queued_spans} spans waiting); retry later")
            self._queue.append(item)
            self._queued_spans += len(spans)
            self._cond.notify()
        if not item.done.wait(timeout):
            raise OverloadedError("the store did not commit in time; retry later")
        if item.error is not None:
            raise item.error
        return item.stored

    @property
    def queued_spans(self) -> int:
        return self._queued_spans

    def _take(self) -> list[_Pending] | None:
        busy = False
        while True:
            with self._cond:
                if not self._queue and not self._stopping and not busy:
                    self._cond.wait(0.05)
                if self._queue:
                    group: list[_Pending] = []
                    n = 0
                    while self._queue and (not group or n + len(self._queue[0].spans) <= self.group_spans):
                        item = self._queue.popleft()
                        group.append(item)
                        n += len(item.spans)
                    return group
                if self._stopping:
                    return None
            busy = self._refresh_some()

    def _refresh_some(self) -> bool:
        """Assemble a few runs while nothing waits to be written; ``True`` when there was work."""
        pending = getattr(self.store, "pending_refresh", None)
        if pending is None:
            return False
        try:
            if pending():
                return bool(self.store.refresh_runs(_IDLE_REFRESH_TRACES))  # type: ignore[attr-defined]
        except StoreError as exc:
            logger.warning("assembling runs failed: %s", exc)
        return False

    def _run(self) -> None:
        while True:
            group = self._take()
            if group is None:
                return
            spans: list[SpanRecord] = [s for item in group for s in item.spans]
            error: BaseException | None = None
            try:
                self.store.write_spans(spans)
            except Exception as exc:  # noqa: BLE001 - reported to every waiting request
                logger.error("committing %d spans failed: %s", len(spans), exc)
                error = exc if isinstance(exc, StoreError) else StoreError(f"committing spans failed: {exc}")
            with self._cond:
                self._queued_spans -= len(spans)
            for item in group:
                item.error = error
                item.stored = 0 if error else len(item.spans)
                item.done.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Commit what is queued, then stop the writer thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
