"""The gRPC side of the analyzer: OTLP/gRPC ``TraceService``, ``LogsService`` and ``MetricsService``.

Each ``Export`` method is registered with raw-bytes deserialisation so that a malformed protobuf
answers INVALID_ARGUMENT with a message rather than the framework's generic INTERNAL. Concurrency is
bounded here rather than by gRPC's ``maximum_concurrent_rpcs``, which answers RESOURCE_EXHAUSTED
without RetryInfo (spec-following exporters drop the batch): over ``max_concurrent`` exports in
progress, or when the memory budget is full, the answer is UNAVAILABLE, which every OTLP exporter
retries with backoff. The thread pool has twice as many threads as exports may run, so a refusal is
answered at once even while every admitted export waits for its commit.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import grpc
from google.protobuf.message import Message

from analyzers.errors import (
    MalformedPayloadError,
    OverloadedError,
    PayloadTooLargeError,
    SpanValueError,
    StoreError,
)
from analyzers.receiver.auth import bearer_matches
from analyzers.receiver.binding import PROTOCOL_GRPC, check_port_free, raise_port_in_use
from analyzers.receiver.exports import SIGNALS, OtlpExports, Signal

if TYPE_CHECKING:
    from analyzers.receiver.admission import MemoryBudget

logger = logging.getLogger(__name__)

SERVICE_NAME = "opentelemetry.proto.collector.trace.v1.TraceService"


class _ExportService:
    def __init__(self, signal: Signal, exports: OtlpExports, budget: MemoryBudget, token: str | None,
                 active: threading.BoundedSemaphore, max_concurrent: int) -> None:
        self.signal = signal
        self.exports = exports
        self.budget = budget
        self.token = token
        self.active = active
        self.max_concurrent = max_concurrent

    def export(self, body: bytes, context: grpc.ServicerContext) -> Message:
        if self.token is not None:
            given = dict(context.invocation_metadata()).get("authorization", "")
            if not bearer_matches(str(given), self.token):
                context.abort(grpc.StatusCode.UNAUTHENTICATED,
                              "missing or wrong bearer token (send metadata 'authorization: Bearer <token>')")
        if not self.active.acquire(blocking=False):
            self.exports.counters.add("grpc_refused_busy")
            context.abort(grpc.StatusCode.UNAVAILABLE,
                          f"{self.max_concurrent} exports are in progress (the limit); retry later")
        try:
            code, message = self._export(body)
        finally:
            self.active.release()
        if isinstance(message, Message):
            return message
        context.abort(code, message)
        raise AssertionError("unreachable: abort raises")

    def _export(self, body: bytes) -> tuple[grpc.StatusCode, Message | str]:
        try:
            reservation = self.budget.reserve(len(body), "the request body")
            try:
                return grpc.StatusCode.OK, self.exports.export(self.signal, body, reservation)
            finally:
                reservation.release()
        except (MalformedPayloadError, SpanValueError) as exc:
            return grpc.StatusCode.INVALID_ARGUMENT, str(exc)
        except PayloadTooLargeError as exc:  # retrying cannot help: not UNAVAILABLE
            return grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc)
        except OverloadedError as exc:
            return grpc.StatusCode.UNAVAILABLE, str(exc)
        except StoreError as exc:
            logger.error("store error while ingesting %s: %s", self.signal.name, exc)
            return grpc.StatusCode.UNAVAILABLE, f"the store could not commit the {self.signal.name}: {exc}"


def build_grpc_server(exports: OtlpExports, budget: MemoryBudget, *, host: str, port: int, token: str | None,
                      max_body_bytes: int, max_concurrent: int = 8) -> tuple[grpc.Server, int]:
    """A ready (not yet started) gRPC server bound to ``host:port``; returns it and its port.

    Raises ``ListenError`` when the port cannot be bound.
    """
    check_port_free(PROTOCOL_GRPC, host, port)
    active = threading.BoundedSemaphore(max_concurrent)
    handlers = []
    for signal in SIGNALS:
        service = _ExportService(signal, exports, budget, token, active, max_concurrent)
        handlers.append(grpc.method_handlers_generic_handler(signal.grpc_service, {
            "Export": grpc.unary_unary_rpc_method_handler(
                service.export,
                request_deserializer=None,
                response_serializer=signal.response_type.SerializeToString,
            ),
        }))
    server = grpc.server(
        ThreadPoolExecutor(max_workers=2 * max_concurrent, thread_name_prefix="otel-meta-grpc"),
        handlers=handlers,
        options=[
            ("grpc.max_receive_message_length", max_body_bytes),
            ("grpc.so_reuseport", 0),
        ],
    )
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError:
        bound = 0
    if bound == 0:
        server.stop(None)
        raise_port_in_use(PROTOCOL_GRPC, host, port)
    return server, bound
