"""OTLP logs and metrics: what the analyzer takes from them.

Logs: a log record that is a ``gen_ai.evaluation.result`` event (its ``event_name``, or the
``event.name`` attribute older SDKs set) becomes an ``EvaluationRecord`` of the run its trace id names;
every other log record is accepted and dropped (counted, and said in the partial success message, so
an exporter that sends all signals to one endpoint neither fails nor retries). An evaluation without a
valid trace id or without ``gen_ai.evaluation.name`` cannot belong to a run: it is rejected
(``rejected_log_records``).

Metrics: accepted and dropped, with a partial success that rejects nothing and says so (the OTLP
specification's way to warn without making the exporter retry).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsPartialSuccess,
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsPartialSuccess,
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)

from analyzers.model import EvaluationRecord
from analyzers.receiver.otlp import MAX_TIME_UNIX_NANO, Rejections, decode_attributes, optional_span_id
from otel_meta import semconv as sc

_METRIC_KINDS = ("gauge", "sum", "histogram", "exponential_histogram", "summary")


@dataclass(frozen=True)
class DecodedLogs:
    """The evaluations of one logs request, how many records were dropped, and how many rejected."""

    evaluations: list[EvaluationRecord]
    dropped: int = 0
    rejected: int = 0
    rejected_message: str = ""

    def export_response(self) -> ExportLogsServiceResponse:
        """The OTLP reply: rejections with why; dropped records as a warning (rejected 0)."""
        response = ExportLogsServiceResponse()
        notes = []
        if self.rejected:
            notes.append(self.rejected_message)
        if self.dropped:
            notes.append(f"{self.dropped} log record(s) accepted and dropped: otel-meta keeps only "
                         f"{sc.EVENT_EVALUATION_RESULT} events")
        if notes:
            response.partial_success.CopyFrom(
                ExportLogsPartialSuccess(rejected_log_records=self.rejected, error_message="; ".join(notes)))
        return response


def _event_name(record: Any, attributes: dict[str, Any]) -> str:
    return record.event_name or str(attributes.get(sc.EVENT_NAME, ""))


def _score(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def decode_logs(request: ExportLogsServiceRequest) -> DecodedLogs:
    """The ``EvaluationRecord``s of a parsed logs request; other records are counted as dropped."""
    evaluations: list[EvaluationRecord] = []
    dropped = 0
    rejections = Rejections(sc.EVENT_EVALUATION_RESULT + " record")
    for rl in request.resource_logs:
        for sl in rl.scope_logs:
            for record in sl.log_records:
                attributes = decode_attributes(record.attributes)
                if _event_name(record, attributes) != sc.EVENT_EVALUATION_RESULT:
                    dropped += 1
                    continue
                if record.body.WhichOneof("value") == "kvlist_value":
                    for key, value in decode_attributes(record.body.kvlist_value.values).items():
                        attributes.setdefault(key, value)
                problem = _evaluation_problem(record, attributes)
                if problem is not None:
                    rejections.add(problem)
                    continue
                evaluations.append(EvaluationRecord(
                    trace_id=record.trace_id.hex(),
                    span_id=optional_span_id(record.span_id),
                    name=str(attributes[sc.GEN_AI_EVALUATION_NAME]),
                    score_value=_score(attributes.get(sc.GEN_AI_EVALUATION_SCORE_VALUE)),
                    score_label=_text(attributes.get(sc.GEN_AI_EVALUATION_SCORE_LABEL)),
                    explanation=_text(attributes.get(sc.GEN_AI_EVALUATION_EXPLANATION)),
                    time_unix_nano=record.time_unix_nano or record.observed_time_unix_nano,
                    attributes=attributes,
                ))
    return DecodedLogs(evaluations, dropped, rejections.total, rejections.message())


def _evaluation_problem(record: Any, attributes: dict[str, Any]) -> str | None:
    if len(record.trace_id) != 16 or not any(record.trace_id):
        return "an evaluation needs the trace id (16 bytes, not all zero) of the run it judges"
    if len(record.span_id) not in (0, 8):
        return "span_id must be empty or 8 bytes"
    if not isinstance(attributes.get(sc.GEN_AI_EVALUATION_NAME), str) or not attributes[sc.GEN_AI_EVALUATION_NAME]:
        return f"{sc.GEN_AI_EVALUATION_NAME} (a string) is required"
    if max(record.time_unix_nano, record.observed_time_unix_nano) > MAX_TIME_UNIX_NANO:
        return f"times must be at most {MAX_TIME_UNIX_NANO} ns (2^63-1)"
    return None


def count_data_points(request: ExportMetricsServiceRequest) -> int:
    """How many data points a parsed metrics request holds."""
    n = 0
    for rm in request.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                which = metric.WhichOneof("data")
                if which in _METRIC_KINDS:
                    n += len(getattr(metric, which).data_points)
    return n


def metrics_response(request: ExportMetricsServiceRequest) -> ExportMetricsServiceResponse:
    """Metrics are accepted and dropped: a partial success rejecting nothing, with a warning."""
    response = ExportMetricsServiceResponse()
    points = count_data_points(request)
    if points:
        response.partial_success.CopyFrom(ExportMetricsPartialSuccess(
            rejected_data_points=0,
            error_message=f"{points} metric data point(s) accepted and dropped: otel-meta stores no metrics "
                          "(send it traces and logs only)"))
    return response
