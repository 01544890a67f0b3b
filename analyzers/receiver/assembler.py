"""``AssemblerThread``: assembles the runs of committed traces after their spans are acknowledged.

The ingest writer commits a group of spans, hands the group's trace ids to ``committed`` and
acknowledges the group at once: assembly (``analyzers.assembly.RunAssembler``: read the trace back,
turn its spans into a ``Run``, save it) never delays an acknowledgement. This thread assembles what was
committed, on its own thread rather than the writer's so that a long pass (a backlog after a burst, a
slow read) delays no commit, and so that ``health()`` can say which of the two stopped.

Coalesced under load: while spans keep arriving (a submit or commit within the last ``quiet_s``), the
thread waits, so each trace is assembled once for many groups and the cores parse and commit; it
assembles as soon as the load pauses, when a reader waits (below), when the oldest unassembled commit
is ``max_lag_s`` old (under sustained load assembly then shares the cores with ingest), and before it
stops. It works in chunks of ``chunk`` traces and re-checks between them. When assembly still falls
behind (more spans arrive than the cores can both commit and assemble), the writer calls ``throttle``
before each commit, which waits while the oldest unassembled commit is over ``max_backlog_s`` old:
acknowledgements then slow down to the pace of assembly, so the backlog (its memory, and how stale a
run can be) stays bounded.

Read barrier (read-your-writes for runs): every commit that carries traces takes the next sequence
number; ``await_assembled`` notes the number at its start, hurries the thread and waits until assembly
has passed it, at most ``timeout`` seconds, and not at all while assembly fails or the thread is dead
(the reader then gets what is there, and it is logged). So a reader in this process that waits on the
barrier after an acknowledgement sees the run of those spans. Readers in other processes see a run once
it is assembled (milliseconds after the acknowledgement when the service is idle).

When nothing is waiting, it also assembles traces that other processes (replicas, importers, a killed
predecessor) left dirty in the store. The traces already dirty when the service starts count as
committed before any read: until a first idle pass finds none left, the barrier waits for them too
(within the same ``timeout``), so a read right after start sees the runs of spans stored before it. No trace stops it (``RunAssembler`` degrades a poisoned one); a
store error (a full disk, a read-only file system) is logged, the traces stay dirty and are retried
after ``retry_s``, doubled at each failure in a row up to ``max_retry_s``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from analyzers.assembly import RunAssembler
from analyzers.store.base import Store

logger = logging.getLogger(__name__)

READ_BARRIER_S = 5.0
_IDLE_POLL_S = 0.05
_IDLE_TRACES = 64


class AssemblerThread:
    """Assembles committed traces after their acknowledgement; ``await_assembled`` is the read barrier."""

    def __init__(self, store: Store, *, quiet_s: float = 0.05, max_lag_s: float = 2.0,
                 max_backlog_s: float = READ_BARRIER_S, chunk: int = 256, retry_s: float = 1.0,
                 max_retry_s: float = 30.0) -> None:
        self.assembler = RunAssembler(store)
        self.quiet_s = quiet_s
        self.max_lag_s = max_lag_s
        self.max_backlog_s = max_backlog_s
        self.chunk = chunk
        self.retry_s = retry_s
        self.max_retry_s = max_retry_s
        self._retry_in = retry_s  # the wait after the next failure
        self._retry_at = 0.0  # no pass before this (monotonic), after a failure
        self._cond = threading.Condition()
        self._deferred: set[str] = set()
        self._oldest: float | None = None  # when the oldest commit in _deferred was made
        self._pass_oldest: float | None = None  # the same for the pass in progress
        self._committed_seq = 0
        self._assembled_seq = 0
        self._hurry = 0  # readers waiting on the barrier, and the writer when throttled
        self._last_load = 0.0
        self._failing: str | None = None
        self._died: str | None = None
        self._stopping = False
        self._idle_found = False
        self._startup_dirty = True  # until an idle pass finds no dirty trace left from before the start
        self._thread = threading.Thread(target=self._run, name="otel-meta-assembler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    # --- the writer's side ---------------------------------------------------------------------------
    def note_load(self) -> None:
        """Spans are arriving: keep deferring assembly for another ``quiet_s``."""
        self._last_load = time.monotonic()

    def committed(self, trace_ids: Iterable[str]) -> None:
        """The spans (or evaluations) of ``trace_ids`` are committed (called before they are
        acknowledged)."""
        ids = set(trace_ids)
        if not ids:
            return
        now = time.monotonic()
        with self._cond:
            self._deferred.update(ids)
            if self._oldest is None:
                self._oldest = now
            self._committed_seq += 1
            self._last_load = now
            self._cond.notify_all()

    def throttle(self) -> None:
        """Wait while the oldest unassembled commit is over ``max_backlog_s`` old (called by the writer
        before each commit); never while assembly cannot progress (it fails, it stopped, or stops)."""
        with self._cond:
            if self._backlog_age(time.monotonic()) <= self.max_backlog_s:
                return
            self._hurry += 1
            self._cond.notify_all()
            try:
                while (self._backlog_age(time.monotonic()) > self.max_backlog_s and not self._stopping
                       and self._cannot_wait() is None):
                    self._cond.wait(0.1)
            finally:
                self._hurry -= 1

    def _backlog_age(self, now: float) -> float:
        oldest = [t for t in (self._oldest, self._pass_oldest) if t is not None]
        return now - min(oldest) if oldest else 0.0

    # --- the readers' side ---------------------------------------------------------------------------
    def await_assembled(self, timeout: float = READ_BARRIER_S) -> bool:
        """Wait until the runs of every trace committed before this call are assembled; ``False`` when
        that did not happen within ``timeout`` seconds or cannot happen now (assembly fails, or this
        thread is not running), and the reader is served what is there."""
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self._committed_seq
            if self._assembled_seq >= target and not self._startup_dirty:
                return True
            self._hurry += 1
            self._cond.notify_all()
            try:
                while self._assembled_seq < target or self._startup_dirty:
                    why = self._cannot_wait()
                    left = deadline - time.monotonic()
                    if why is None and left <= 0:
                        why = f"assembly did not catch up within {timeout:g} s"
                    if why is not None:
                        logger.warning("serving runs that may miss the latest acknowledged spans: %s", why)
                        return False
                    self._cond.wait(left)
                return True
            finally:
                self._hurry -= 1

    def _cannot_wait(self) -> str | None:
        if self._died is not None:
            return f"the run assembler has stopped ({self._died})"
        if not self._thread.is_alive():
            return "the run assembler is not running"
        return self._failing

    @property
    def backlog(self) -> int:
        """Committed traces whose assembly has not started yet."""
        return len(self._deferred)

    def health(self) -> str | None:
        """``None`` while the thread runs (or was never started), else why it does not."""
        if self._died is not None:
            return f"the run assembler has stopped: {self._died}"
        if self._thread.ident is not None and not self._thread.is_alive() and not self._stopping:
            return "the run assembler has stopped"
        return None

    def stop(self, timeout: float = 30.0) -> None:
        """Assemble what was committed (without deferring), then stop the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    # --- the thread ----------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while (work := self._next()) is not None:
                trace_ids, target, oldest = work
                if target is None:
                    self._idle_found = self._idle_pass()
                else:
                    self._assemble_all(trace_ids, target, oldest)
        except BaseException as exc:  # never silently: health and the barrier say so
            logger.critical("the run assembler stopped: %s", exc, exc_info=True)
            with self._cond:
                self._died = f"{type(exc).__name__}: {exc}"
                self._cond.notify_all()

    def _busy(self, now: float) -> bool:
        return now - self._last_load < self.quiet_s

    def _must_go(self, oldest: float, now: float) -> bool:
        return self._stopping or self._hurry > 0 or not self._busy(now) or now - oldest >= self.max_lag_s

    def _wait_s(self, oldest: float, now: float) -> float:
        return max(0.001, min(self.quiet_s - (now - self._last_load), self.max_lag_s - (now - oldest)))

    def _next(self) -> tuple[list[str], int | None, float] | None:
        """The next pass: (traces, the sequence number they complete, when the oldest was committed);
        target ``None`` for an idle pass over other processes' dirty traces; ``None`` to stop."""
        with self._cond:
            while True:
                now = time.monotonic()
                if now < self._retry_at and not self._stopping:  # after a failure: no pass before then
                    self._cond.wait(self._retry_at - now)
                    continue
                if self._deferred:
                    assert self._oldest is not None
                    if self._must_go(self._oldest, now):
                        work = sorted(self._deferred), self._committed_seq, self._oldest
                        self._pass_oldest = self._oldest
                        self._deferred.clear()
                        self._oldest = None
                        return work
                    self._cond.wait(self._wait_s(self._oldest, now))
                    continue
                if self._stopping:
                    return None
                if not self._idle_found:
                    self._cond.wait(_IDLE_POLL_S)
                    if self._deferred or self._stopping:
                        continue
                if self._busy(time.monotonic()) and not self._hurry:
                    self._idle_found = False
                    continue
                return [], None, now

    def _idle_pass(self) -> bool:
        try:
            found = self.assembler.assemble_pending(_IDLE_TRACES) > 0
        except Exception as exc:  # noqa: BLE001 - retried after a pause
            logger.warning("assembling the runs of dirty traces failed (retried in %g s): %s", self._retry_in, exc)
            with self._cond:
                self._failing = f"assembling runs fails: {exc}"
                self._back_off()
                self._cond.notify_all()  # readers stop waiting for it
            return False
        with self._cond:
            self._retry_in = self.retry_s
            self._failing = None
            if not found and self._startup_dirty:
                self._startup_dirty = False
                self._cond.notify_all()
        return found

    def _back_off(self) -> None:
        self._retry_at = time.monotonic() + self._retry_in
        self._retry_in = min(self.max_retry_s, self._retry_in * 2)

    def _assemble_all(self, trace_ids: list[str], target: int, oldest: float) -> None:
        for start in range(0, len(trace_ids), self.chunk):
            if start:
                self._yield_to_ingest(oldest)
            chunk = trace_ids[start:start + self.chunk]
            try:
                self.assembler.assemble_pending(len(chunk), among=chunk)
            except Exception as exc:  # noqa: BLE001 - the traces stay dirty; ingest goes on
                self._failed(trace_ids[start:], oldest, exc)
                return
        with self._cond:
            self._assembled_seq = max(self._assembled_seq, target)
            self._pass_oldest = None
            self._failing = None
            self._retry_in = self.retry_s
            self._cond.notify_all()

    def _yield_to_ingest(self, oldest: float) -> None:
        with self._cond:
            while not self._must_go(oldest, now := time.monotonic()):
                self._cond.wait(self._wait_s(oldest, now))

    def _failed(self, left: list[str], oldest: float, exc: Exception) -> None:
        logger.error("assembling the runs of %d committed traces failed (retried in %g s): %s",
                     len(left), self._retry_in, exc)
        with self._cond:
            self._failing = f"assembling runs fails: {exc}"
            self._pass_oldest = None
            self._cond.notify_all()  # readers and the writer stop waiting for it
            if self._stopping:  # one try at stopping: the traces stay dirty; the next start assembles them
                return
            self._deferred.update(left)
            self._oldest = oldest if self._oldest is None else min(self._oldest, oldest)
            self._back_off()
