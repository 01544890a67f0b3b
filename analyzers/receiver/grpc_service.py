"""The gRPC side of the analyzer: OTLP/gRPC ``TraceService/Export``.

The method is registered with raw-bytes (de)serialisation so that a malformed protobuf answers
INVALID_ARGUMENT with a message rather than the framework's generic INTERNAL.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from analyzers.errors import MalformedPayloadError, OverloadedError, SpanValueError, StoreError
from analyzers.receiver import otlp
from analyzers.receiver.auth import bearer_matches

if TYPE_CHECKING:
    from analyzers.receiver.ingest import IngestQueue

logger = logging.getLogger(__name__)

SERVICE_NAME = "opentelemetry.proto.collector.trace.v1.TraceService"


class _TraceService:
    def __init__(self, ingest: IngestQueue, token: str | None) -> None:
        self.ingest = ingest
        self.token = token

    def export(self, body: bytes, context: grpc.ServicerContext) -> ExportTraceServiceResponse:
        if self.token is not None:
            given = dict(context.invocation_metadata()).get("authorization", "")
            if not bearer_matches(str(given), self.token):
                context.abort(grpc.StatusCode.UNAUTHENTICATED,
                              "missing or wrong bearer token (send metadata 'authorization: Bearer <token>')")
        try:
            batch = otlp.decode_request(otlp.parse_protobuf(body))
            self.ingest.submit(batch.spans)
        except (MalformedPayloadError, SpanValueError) as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except OverloadedError as exc:
            context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        except StoreError as exc:
            logger.error("store error while ingesting: %s", exc)
            context.abort(grpc.StatusCode.UNAVAILABLE, f"the store could not commit the spans: {exc}")
        return batch.export_response()


def build_grpc_server(ingest: IngestQueue, *, host: str, port: int, token: str | None,
                      max_body_bytes: int, max_workers: int = 8) -> tuple[grpc.Server, int]:
    """A started-ready (not yet started) gRPC server bound to ``host:port``; returns it and its port."""
    service = _TraceService(ingest, token)
    handler = grpc.method_handlers_generic_handler(SERVICE_NAME, {
        "Export": grpc.unary_unary_rpc_method_handler(
            service.export,
            request_deserializer=None,
            response_serializer=ExportTraceServiceResponse.SerializeToString,
        ),
    })
    server = grpc.server(
        ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="otel-meta-grpc"),
        handlers=(handler,),
        maximum_concurrent_rpcs=4 * max_workers,
        options=[
            ("grpc.max_receive_message_length", max_body_bytes),
            ("grpc.so_reuseport", 0),
        ],
    )
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"cannot bind the gRPC receiver to {host}:{port}")
    return server, bound
