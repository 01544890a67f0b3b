"""Decoding OTLP trace export requests (protobuf and JSON, optionally gzip) into ``SpanRecord``s.

The JSON encoding follows the OTLP specification: lowerCamelCase field names, ``traceId``/``spanId``
as hex strings (not base64), enums as numbers, 64-bit integers as numbers or decimal strings.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from analyzers.errors import MalformedPayloadError, PayloadTooLargeError
from analyzers.model import SpanEvent, SpanLink, SpanRecord

#: JSON bodies nested deeper than this are refused (OTLP traces need about a dozen levels).
MAX_JSON_DEPTH = 64
M = TypeVar("M", bound=Message)
_HEX_ID_FIELDS = {"traceId": 16, "spanId": 8, "parentSpanId": 8}
_GZIP_MAGIC = b"\x1f\x8b"
_GUNZIP_CHUNK = 1 << 20
#: Deflate cannot expand input more than ~1032 times, so a trailer announcing more is not believed.
_DEFLATE_MAX_RATIO = 1032
#: Times are stored as SQLite integers (signed 64-bit); a later fixed64 cannot be a real time.
MAX_TIME_UNIX_NANO = (1 << 63) - 1


@dataclass(frozen=True)
class DecodedBatch:
    """The spans accepted from one request, and how many were rejected (with why)."""

    spans: list[SpanRecord]
    rejected: int = 0
    error_message: str = ""

    def export_response(self) -> ExportTraceServiceResponse:
        """The OTLP reply to the request: a partial success with the rejected count and why, if any."""
        response = ExportTraceServiceResponse()
        if self.rejected:
            response.partial_success.CopyFrom(
                ExportTracePartialSuccess(rejected_spans=self.rejected, error_message=self.error_message))
        return response


def gunzip(body: bytes | bytearray, limit: int, on_output: Callable[[int], None] | None = None) -> bytearray:
    """Decompress a gzip body of one or more members (RFC 1952 allows several; ``cat a.gz b.gz`` makes
    them), refusing output over ``limit`` bytes in all, truncated members and trailing non-gzip bytes.
    ``on_output(n)`` is called before ``n`` more bytes of output memory are taken (it may raise). The
    output is allocated once at the size the last member's trailer announces (capped at ``limit``) and
    grown only past it, so a growing buffer is never copied."""
    announced = int.from_bytes(body[-4:], "little") if len(body) >= 18 else 0
    out = bytearray(min(announced, limit, _DEFLATE_MAX_RATIO * len(body)))  # the trailer is the client's word
    if on_output is not None and out:
        on_output(len(out))
    filled = 0
    rest = body
    while True:
        d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        while True:
            try:
                chunk = d.decompress(rest, min(_GUNZIP_CHUNK, limit + 1 - filled))
            except zlib.error as exc:
                raise MalformedPayloadError(f"the gzip body could not be decompressed: {exc}") from None
            end = filled + len(chunk)
            if end > limit:
                raise PayloadTooLargeError(f"the decompressed body is over the limit of {limit} bytes")
            if end > len(out) and on_output is not None:
                on_output(end - len(out))
            out[filled:min(end, len(out))] = chunk
            filled = end
            rest = d.unconsumed_tail
            if not rest or d.eof:
                break
        if not d.eof:
            raise MalformedPayloadError("the gzip body is truncated (the stream ends before its trailer)")
        rest = d.unused_data
        if not rest:
            del out[filled:]  # when the trailer announced more than came
            return out  # a bytearray parses as bytes do; copying it would double the memory
        if not rest.startswith(_GZIP_MAGIC):
            raise MalformedPayloadError(
                f"the gzip body has {len(rest)} byte(s) of trailing data after its last member")


def _any_value(v: AnyValue) -> Any:
    which = v.WhichOneof("value")
    if which == "string_value":
        return v.string_value
    if which == "int_value":
        return v.int_value
    if which == "double_value":
        return v.double_value
    if which == "bool_value":
        return v.bool_value
    if which == "array_value":
        return [_any_value(x) for x in v.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _any_value(kv.value) for kv in v.kvlist_value.values}
    if which == "bytes_value":
        return bytes(v.bytes_value)
    return None


def decode_attributes(kvs: Any) -> dict[str, Any]:
    """OTLP ``KeyValue``s as a dict of plain Python values (bytes for ``bytes_value``)."""
    out: dict[str, Any] = {}
    for kv in kvs:
        value = kv.value
        which = value.WhichOneof("value")
        # The common scalars inline: this loop is the ingest hot path.
        if which == "string_value":
            out[kv.key] = value.string_value
        elif which == "int_value":
            out[kv.key] = value.int_value
        else:
            out[kv.key] = _any_value(value)
    return out


_BAD_IDS = ("trace_id must be 16 bytes and span_id 8 bytes, not all zero "
            "(parent_span_id empty or 8 bytes)")
_BAD_TIMES = (f"start and end times must be at most {MAX_TIME_UNIX_NANO} ns (2^63-1) "
              "and the end not before the start")


def optional_span_id(raw: bytes) -> str | None:
    """The hex span id of a parent or a log record's span, or ``None`` when there is none: empty, all
    zero (OTLP's "no span") or not 8 bytes long."""
    return raw.hex() if len(raw) == 8 and any(raw) else None


def _span_problem(s: Any) -> str | None:
    """Why a span cannot be stored as it came, or ``None``; checked before it can reach a transaction."""
    tid, sid, pid = s.trace_id, s.span_id, s.parent_span_id
    if len(tid) != 16 or len(sid) != 8 or len(pid) not in (0, 8) or not any(tid) or not any(sid):
        return _BAD_IDS
    start, end = s.start_time_unix_nano, s.end_time_unix_nano
    if start > MAX_TIME_UNIX_NANO or end > MAX_TIME_UNIX_NANO or end < start:
        return _BAD_TIMES
    if any(e.time_unix_nano > MAX_TIME_UNIX_NANO for e in s.events):
        return _BAD_TIMES
    return None


class Rejections:
    """The items of one request refused, counted by why, for its OTLP partial success."""

    def __init__(self, item: str) -> None:
        self.item = item
        self._counts: dict[str, int] = {}

    def add(self, why: str) -> None:
        self._counts[why] = self._counts.get(why, 0) + 1

    @property
    def total(self) -> int:
        return sum(self._counts.values())

    def message(self) -> str:
        return "; ".join(f"{n} {self.item}(s) rejected: {why}" for why, n in self._counts.items())


def count_spans(request: ExportTraceServiceRequest) -> int:
    """How many spans a parsed request holds (cheap: no span is decoded)."""
    return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)


def decode_request(request: ExportTraceServiceRequest) -> DecodedBatch:
    """The ``SpanRecord``s of a parsed request; spans with invalid ids or out-of-range times are counted
    as rejected (the request's partial success), so they never reach the store's shared transaction."""
    spans: list[SpanRecord] = []
    rejections = Rejections("span")
    for rs in request.resource_spans:
        resource = decode_attributes(rs.resource.attributes)
        for ss in rs.scope_spans:
            scope_name, scope_version = ss.scope.name, ss.scope.version
            for s in ss.spans:
                problem = _span_problem(s)
                if problem is not None:
                    rejections.add(problem)
                    continue
                spans.append(SpanRecord(
                    trace_id=s.trace_id.hex(),
                    span_id=s.span_id.hex(),
                    parent_span_id=optional_span_id(s.parent_span_id),
                    name=s.name,
                    kind=s.kind,
                    start_time_unix_nano=s.start_time_unix_nano,
                    end_time_unix_nano=s.end_time_unix_nano,
                    attributes=decode_attributes(s.attributes),
                    events=tuple(SpanEvent(e.name, e.time_unix_nano, decode_attributes(e.attributes)) for e in s.events),
                    links=tuple(SpanLink(lk.trace_id.hex(), lk.span_id.hex(), decode_attributes(lk.attributes))
                                for lk in s.links),
                    status_code=s.status.code,
                    status_message=s.status.message,
                    resource_attributes=resource,
                    scope_name=scope_name,
                    scope_version=scope_version,
                ))
    return DecodedBatch(spans, rejections.total, rejections.message())


def parse_protobuf(body: bytes | bytearray, message_type: type[M] = ExportTraceServiceRequest) -> M:  # type: ignore[assignment]
    """``body`` parsed as an OTLP request message (a trace export request unless told otherwise)."""
    request = message_type()
    try:
        request.ParseFromString(body)
    except (DecodeError, RuntimeError, ValueError) as exc:
        raise MalformedPayloadError(
            f"the body is not a valid OTLP {message_type.DESCRIPTOR.name} protobuf: {exc}") from None
    return request


def _check_depth(obj: Any) -> None:
    stack = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise MalformedPayloadError(f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


def _hex_ids_to_base64(node: Any) -> None:
    """OTLP/JSON carries ids as hex; protobuf's JSON mapping expects base64 for bytes fields."""
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            for key, value in cur.items():
                if key in _HEX_ID_FIELDS and isinstance(value, str):
                    try:
                        raw = bytes.fromhex(value)
                    except ValueError:
                        raise MalformedPayloadError(f"{key} {value[:40]!r} is not a hex string") from None
                    cur[key] = base64.b64encode(raw).decode("ascii")
                elif isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(cur, list):
            stack.extend(v for v in cur if isinstance(v, (dict, list)))


def load_json(body: bytes | bytearray, message_type: type[Message] = ExportTraceServiceRequest) -> dict[str, Any]:
    """``body`` read as JSON (the first half of ``parse_json``): an object, at most ``MAX_JSON_DEPTH`` deep."""
    try:
        obj = json.loads(body)
    except RecursionError:
        raise MalformedPayloadError(f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayloadError(f"the body is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise MalformedPayloadError(f"the JSON body must be an object (an OTLP {message_type.DESCRIPTOR.name})")
    _check_depth(obj)
    return obj


def json_to_message(obj: dict[str, Any], message_type: type[M] = ExportTraceServiceRequest) -> M:  # type: ignore[assignment]
    """An object from ``load_json`` as the OTLP request message (the second half of ``parse_json``)."""
    _hex_ids_to_base64(obj)
    request = message_type()
    try:
        json_format.ParseDict(obj, request, ignore_unknown_fields=True, max_recursion_depth=MAX_JSON_DEPTH)
    except (json_format.ParseError, binascii.Error, ValueError, TypeError) as exc:
        raise MalformedPayloadError(f"the JSON body is not an OTLP {message_type.DESCRIPTOR.name}: {exc}") from None
    return request


def parse_json(body: bytes | bytearray, message_type: type[M] = ExportTraceServiceRequest) -> M:  # type: ignore[assignment]
    """``body`` parsed as the OTLP/JSON encoding of an OTLP request message."""
    return json_to_message(load_json(body, message_type), message_type)


def count_json_items(obj: Any, path: tuple[str, ...]) -> int:
    """How many elements the lists at ``path`` hold in a JSON object (e.g. resourceSpans/scopeSpans/spans);
    parts of another shape count nothing (parsing refuses them later)."""
    nodes = [obj]
    for key in path:
        children: list[Any] = []
        for node in nodes:
            value = node.get(key) if isinstance(node, dict) else None
            if isinstance(value, list):
                children.extend(value)
        nodes = children
    return len(nodes)


def count_wire_items(body: bytes | bytearray, path: tuple[int, ...], message_type: type[Message]) -> int:
    """How many length-delimited fields sit at ``path`` (field numbers, outermost first) of a serialised
    protobuf message, read from tags and lengths only, before the message is parsed: parsing costs
    about 180 bytes of memory per span however small the span is on the wire (2 bytes for an empty one)."""
    view = memoryview(body)
    try:
        return _count_fields(view, 0, len(view), path)
    except (IndexError, ValueError):
        raise MalformedPayloadError(
            f"the body is not a valid OTLP {message_type.DESCRIPTOR.name} protobuf: bad tag or length") from None


def _varint(view: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = view[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _count_fields(view: memoryview, pos: int, end: int, path: tuple[int, ...]) -> int:
    count = 0
    while pos < end:
        tag, pos = _varint(view, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            _, pos = _varint(view, pos)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            length, pos = _varint(view, pos)
            if pos + length > end:
                raise ValueError("length past the end")
            if number == path[0]:
                count += 1 if len(path) == 1 else _count_fields(view, pos, pos + length, path[1:])
            pos += length
        else:
            raise ValueError(f"wire type {wire}")
    if pos != end:
        raise ValueError("field past the end")
    return count


__all__ = [
    "MAX_TIME_UNIX_NANO", "DecodedBatch", "Rejections", "count_json_items", "count_spans", "count_wire_items", "decode_attributes",
    "decode_request", "gunzip", "json_to_message", "load_json", "optional_span_id", "parse_json", "parse_protobuf",
]
