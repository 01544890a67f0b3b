"""What the receiver admits at once: memory in bytes, body slots per client, and how fast a body must come.

Every export request (OTLP/HTTP and OTLP/gRPC alike) reserves from one ``MemoryBudget`` before the
memory is spent: the raw body when its length is known, the decompressed body, then the cost of its
decoded spans (``SPAN_COST_BYTES`` each) once the parsed request says how many there are, before a
single span is decoded. A reservation that does not fit is refused at once (HTTP 503 + ``Retry-After``,
gRPC UNAVAILABLE: the exporters retry); one that could never fit is refused as too large (413). A
request keeps its reservation until its spans are committed, so the queue's spans are inside the budget.

``ClientSlots`` bounds the request bodies one client address is sending at once (a slot is held while
the body arrives, not while it is committed), so one slow or hostile client cannot hold every
connection the server serves; ``BodyPace`` is the deadline a body must meet: a grace period, then a
minimum average rate, and a total deadline.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from analyzers.errors import OverloadedError, PayloadTooLargeError

#: What one decoded span costs in memory, measured on agent-like spans (``SpanRecord``, its attribute
#: dicts and strings: ~0.9 KiB for the benchmark's spans), rounded up so the budget errs on the safe side.
SPAN_COST_BYTES = 1536


class MemoryBudget:
    """Bytes that the requests in flight may hold; ``reserve`` refuses instead of waiting."""

    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        self._used = 0
        self._lock = threading.Lock()

    @property
    def used_bytes(self) -> int:
        return self._used

    def reserve(self, n: int, what: str) -> Reservation:
        """Reserve ``n`` bytes for ``what`` or raise: ``PayloadTooLargeError`` when ``n`` is over the
        whole budget (retrying cannot help), ``OverloadedError`` when it does not fit now."""
        if n > self.limit_bytes:
            raise PayloadTooLargeError(
                f"{what} needs {n} bytes of memory, over the receiver's limit of {self.limit_bytes} bytes "
                "for all requests in flight; send smaller batches (the OTLP exporters' default is 512 spans)")
        with self._lock:
            if self._used + n > self.limit_bytes:
                raise OverloadedError(
                    f"the receiver holds {self._used} bytes of requests in flight (limit {self.limit_bytes}); "
                    "retry later")
            self._used += n
        return Reservation(self, n)

    def _release(self, n: int) -> None:
        with self._lock:
            self._used -= n


class Reservation:
    """Bytes held from a ``MemoryBudget`` until ``release`` (idempotent); it can grow with ``add``."""

    def __init__(self, budget: MemoryBudget, n: int) -> None:
        self._budget = budget
        self.bytes = n

    def add(self, n: int, what: str) -> None:
        """Reserve ``n`` more bytes (or raise as ``MemoryBudget.reserve`` does, judging the whole
        reservation: a request whose total can never fit is too large, not a reason to retry)."""
        limit = self._budget.limit_bytes
        if self.bytes + n > limit:
            raise PayloadTooLargeError(
                f"this request needs over {self.bytes + n} bytes of memory for {what}, over the receiver's "
                f"limit of {limit} bytes for all requests in flight; send smaller batches (the OTLP "
                "exporters' default is 512 spans)")
        more = self._budget.reserve(n, what)
        self.bytes += more.bytes

    def release(self) -> None:
        if self.bytes:
            self._budget._release(self.bytes)
            self.bytes = 0


class ClientSlots:
    """At most ``per_client`` bodies in flight from one client address."""

    def __init__(self, per_client: int) -> None:
        self.per_client = per_client
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def acquire(self, client: str) -> None:
        with self._lock:
            held = self._held.get(client, 0)
            if held >= self.per_client:
                raise OverloadedError(
                    f"this client already has {held} request bodies in flight (limit {self.per_client}); "
                    "retry after one is answered")
            self._held[client] = held + 1

    def release(self, client: str) -> None:
        with self._lock:
            held = self._held.get(client, 0) - 1
            if held > 0:
                self._held[client] = held
            else:
                self._held.pop(client, None)


@dataclass(frozen=True)
class BodyPace:
    """How fast a request body must arrive: within ``grace_s`` of its first wait, then at
    ``min_rate_bytes_per_s`` on average, and whole within ``total_s``. A body that falls behind is
    refused with 408 and its connection closed, so a trickling client frees its slot within seconds."""

    grace_s: float = 5.0
    min_rate_bytes_per_s: float = 64 * 1024
    total_s: float = 60.0

    def wait_budget(self, started: float, received: int, now: float | None = None) -> float:
        """Seconds the next chunk may take, given ``received`` bytes since ``started`` (monotonic)."""
        now = time.monotonic() if now is None else now
        behind = started + self.grace_s + received / self.min_rate_bytes_per_s
        return min(behind, started + self.total_s) - now
