"""The work behind an OTLP export, whichever protocol carried it: traces, logs and metrics.

``OtlpExports.export`` takes a request body (decompressed) that already holds a ``Reservation`` for its
bytes, counts its items from the wire format (or the JSON lists) without parsing, refuses a request
with more items than the queue holds, reserves the memory for parsing and for decoding, and only then
parses and decodes. Traces are committed through the ``IngestQueue`` (the answer waits for the
commit); evaluation results from logs through ``Store.write_evaluations`` (committed before it
returns); metrics are counted and dropped.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from analyzers.errors import OverloadedError, PayloadTooLargeError
from analyzers.receiver import otlp, otlp_logs
from analyzers.receiver.admission import SPAN_COST_BYTES, Reservation

if TYPE_CHECKING:
    from analyzers.receiver.ingest import IngestQueue
    from analyzers.store.base import Store

logger = logging.getLogger(__name__)

#: What parsing costs in memory, measured with upb (protobuf 5/6) on adversarial bodies: ~177 bytes per
#: span (an empty span is 2 bytes on the wire), and up to ~31 bytes per body byte for other tiny
#: messages (empty attributes, events or array values); agent-like spans cost ~3.2 per byte.
PARSE_BYTES_PER_ITEM = 192
PARSE_BYTES_PER_BODY_BYTE = 32
#: ``json.loads`` builds up to ~22 bytes of Python objects per body byte (``[[],[],...]``).
JSON_BYTES_PER_BODY_BYTE = 24


@dataclass(frozen=True)
class Signal:
    """One OTLP signal: its HTTP path, its gRPC service and messages, and where its items are."""

    name: str
    path: str
    grpc_service: str
    request_type: type[Message]
    response_type: type[Message]
    item: str
    #: Field numbers from the request down to the items (resource, scope, item), and the JSON keys.
    wire_path: tuple[int, ...]
    json_path: tuple[str, ...]


TRACES = Signal("traces", "/v1/traces", "opentelemetry.proto.collector.trace.v1.TraceService",
                ExportTraceServiceRequest, ExportTraceServiceResponse, "span",
                (1, 2, 2), ("resourceSpans", "scopeSpans", "spans"))
LOGS = Signal("logs", "/v1/logs", "opentelemetry.proto.collector.logs.v1.LogsService",
              ExportLogsServiceRequest, ExportLogsServiceResponse, "log record",
              (1, 2, 2), ("resourceLogs", "scopeLogs", "logRecords"))
METRICS = Signal("metrics", "/v1/metrics", "opentelemetry.proto.collector.metrics.v1.MetricsService",
                 ExportMetricsServiceRequest, ExportMetricsServiceResponse, "metric",
                 (1, 2, 2), ("resourceMetrics", "scopeMetrics", "metrics"))
SIGNALS = (TRACES, LOGS, METRICS)


class Counters:
    """What the receiver accepted, rejected and dropped since it started (thread-safe)."""

    def __init__(self) -> None:
        self._values: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, name: str, n: int = 1) -> None:
        if n:
            with self._lock:
                self._values[name] = self._values.get(name, 0) + n

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._values)


class OtlpExports:
    """Parses, bounds and commits OTLP export requests for the HTTP and gRPC receivers."""

    def __init__(self, ingest: IngestQueue, store: Store, *, max_items_per_request: int,
                 counters: Counters | None = None) -> None:
        self.ingest = ingest
        self.store = store
        self.max_items_per_request = max_items_per_request
        self.counters = counters if counters is not None else Counters()

    def export(self, signal: Signal, body: bytes | bytearray, reservation: Reservation, *,
               json: bool = False) -> Message:
        """Commit what ``body`` carries and return the OTLP response (maybe a partial success).

        Raises ``MalformedPayloadError`` (400), ``PayloadTooLargeError`` (413), ``OverloadedError``
        (503, retry) or ``StoreError`` (503, retry); nothing is decoded before its memory is reserved.
        """
        obj: dict[str, Any] | None = None
        if json:
            reservation.add(JSON_BYTES_PER_BODY_BYTE * len(body), "reading the JSON body")
            obj = otlp.load_json(body, signal.request_type)
            n = otlp.count_json_items(obj, signal.json_path)
        else:
            n = otlp.count_wire_items(body, signal.wire_path, signal.request_type)
        if n > self.max_items_per_request:
            raise PayloadTooLargeError(
                f"the request holds {n} {signal.item}s, over the limit of {self.max_items_per_request} per "
                "request; send smaller batches (the OTLP exporters' default is 512)")
        reservation.add(PARSE_BYTES_PER_ITEM * n + PARSE_BYTES_PER_BODY_BYTE * len(body), "parsing the request")
        if obj is not None:
            request = otlp.json_to_message(obj, signal.request_type)
            del obj
        else:
            request = otlp.parse_protobuf(body, signal.request_type)
        reservation.add(n * SPAN_COST_BYTES + len(body), f"decoding {n} {signal.item}s")
        if signal is TRACES:
            return self._traces(request, n)
        if signal is LOGS:
            return self._logs(request)
        self.counters.add("metric_data_points_dropped", otlp_logs.count_data_points(request))
        return otlp_logs.metrics_response(request)

    def _traces(self, request: ExportTraceServiceRequest, n: int) -> ExportTraceServiceResponse:
        queued = self.ingest.queued_spans
        if queued and queued + n > self.ingest.max_queued_spans:  # refused before decoding
            raise OverloadedError(f"the write queue is full ({queued} spans waiting); retry later")
        batch = otlp.decode_request(request)
        del request
        self.ingest.submit(batch.spans)
        self.counters.add("spans_accepted", len(batch.spans))
        self.counters.add("spans_rejected", batch.rejected)
        return batch.export_response()

    def _logs(self, request: ExportLogsServiceRequest) -> ExportLogsServiceResponse:
        decoded = otlp_logs.decode_logs(request)
        if decoded.evaluations:
            self.store.write_evaluations(decoded.evaluations)
            # an evaluation can set its run's outcome: assembled after the ack, behind the read barrier
            self.ingest.assembly.committed(e.trace_id for e in decoded.evaluations)
        self.counters.add("evaluations_accepted", len(decoded.evaluations))
        self.counters.add("log_records_dropped", decoded.dropped)
        self.counters.add("log_records_rejected", decoded.rejected)
        return decoded.export_response()
