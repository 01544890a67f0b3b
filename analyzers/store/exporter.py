"""``StoreSpanExporter``: an OpenTelemetry SDK ``SpanExporter`` that commits spans into a ``Store``.

Embedded mode uses it (the MetaAgent records its own process's spans with no server in between), and
so do the importers' ``--db`` option. ``export`` returns SUCCESS only after the store committed; the
runs of the exported traces are assembled before it returns, so they can be read at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from analyzers.assembly import RunAssembler
from analyzers.errors import StoreError
from analyzers.model import SpanEvent, SpanLink, SpanRecord
from analyzers.store.base import Store

logger = logging.getLogger(__name__)

# SDK SpanKind (INTERNAL=0, SERVER=1, ...) is OTLP's SpanKind minus one.
_OTLP_KIND_OFFSET = 1
# SDK StatusCode: UNSET=0, OK=1, ERROR=2, the same numbers as OTLP.


def _value(v: Any) -> Any:
    if isinstance(v, (tuple, list)):
        return [_value(x) for x in v]
    return v


def _attrs(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: _value(v) for k, v in (attributes or {}).items()}


def span_record(span: ReadableSpan) -> SpanRecord:
    """The ``SpanRecord`` of a finished SDK span."""
    ctx = span.get_span_context()
    if ctx is None:
        raise ValueError(f"span {span.name!r} has no span context")
    parent = span.parent
    return SpanRecord(
        trace_id=format(ctx.trace_id, "032x"),
        span_id=format(ctx.span_id, "016x"),
        parent_span_id=format(parent.span_id, "016x") if parent is not None else None,
        name=span.name,
        kind=span.kind.value + _OTLP_KIND_OFFSET,
        start_time_unix_nano=span.start_time or 0,
        end_time_unix_nano=span.end_time or span.start_time or 0,
        attributes=_attrs(span.attributes),
        events=tuple(SpanEvent(e.name, e.timestamp, _attrs(e.attributes)) for e in span.events),
        links=tuple(
            SpanLink(format(lk.context.trace_id, "032x"), format(lk.context.span_id, "016x"), _attrs(lk.attributes))
            for lk in span.links
        ),
        status_code=span.status.status_code.value,
        status_message=span.status.description or "",
        resource_attributes=_attrs(span.resource.attributes),
        scope_name=span.instrumentation_scope.name if span.instrumentation_scope else "",
        scope_version=(span.instrumentation_scope.version or "") if span.instrumentation_scope else "",
    )


class StoreSpanExporter(SpanExporter):
    """Exports finished spans straight into ``store`` (``SqliteStore`` or any ``Store``)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.assembler = RunAssembler(store)
        self._shutdown = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._shutdown:
            logger.warning("StoreSpanExporter.export called after shutdown; %d spans dropped", len(spans))
            return SpanExportResult.FAILURE
        try:
            records = [span_record(s) for s in spans]
            self.store.write_spans(records)
        except (StoreError, ValueError) as exc:
            logger.error("could not store %d spans: %s", len(spans), exc)
            return SpanExportResult.FAILURE
        try:
            self.assembler.assemble_pending(len(records), among=[r.trace_id for r in records])
        except StoreError as exc:  # the spans are committed; the next assembly pass builds their runs
            logger.warning("could not assemble the runs of %d exported spans: %s", len(spans), exc)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self._shutdown = True

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
