"""``AnalyzerServer``: the OTLP receiver (HTTP and gRPC) and the REST API of one analyzer service."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from analyzers.errors import ListenError
from analyzers.receiver.grpc_service import build_grpc_server
from analyzers.receiver.http import ReceiverHttpServer
from analyzers.receiver.ingest import IngestQueue
from analyzers.store.base import Store

if TYPE_CHECKING:
    import grpc

    from analyzers.api.context import ServiceContext

logger = logging.getLogger(__name__)


def _cannot_listen(what: str, host: str, port: int, cause: str) -> str:
    return (f"cannot listen for {what} on {host}:{port}: {cause}; stop the process that holds the port "
            "or choose another one (0 = any free port)")


class AnalyzerServer:
    """Serves OTLP/HTTP ``POST /v1/traces`` (protobuf or JSON, gzip or not), OTLP/gRPC
    ``TraceService/Export``, ``GET /healthz`` and every route of ``analyzers.api.all_routes()``.

    A success reply is sent only after the spans are committed to ``store``. With ``token`` set, every
    endpoint except ``/healthz`` needs ``Authorization: Bearer <token>``. Port 0 picks a free port
    (read it from ``http_address`` / ``grpc_address``); ``grpc_port=None`` serves no gRPC.
    """

    def __init__(
        self,
        store: Store,
        host: str = "127.0.0.1",
        http_port: int = 0,
        grpc_port: int | None = 0,
        token: str | None = None,
        max_body_bytes: int = 32 << 20,
        context: ServiceContext | None = None,
        *,
        max_queued_spans: int = 100_000,
    ) -> None:
        from analyzers.api import all_routes
        from analyzers.api.context import ServiceContext

        self.store = store
        self.host = host
        self.context = context if context is not None else ServiceContext(store=store)
        self.ingest = IngestQueue(store, max_queued_spans=max_queued_spans)
        try:
            self._http = ReceiverHttpServer(
                (host, http_port), ingest=self.ingest, context=self.context, routes=all_routes(),
                token=token or None, max_body_bytes=max_body_bytes,
            )
        except OSError as exc:
            raise ListenError(_cannot_listen("OTLP/HTTP", host, http_port, exc.strerror or str(exc))) from exc
        self._grpc: grpc.Server | None = None
        self._grpc_port: int | None = None
        if grpc_port is not None:
            try:
                self._grpc, self._grpc_port = build_grpc_server(
                    self.ingest, host=host, port=grpc_port, token=token or None, max_body_bytes=max_body_bytes)
            except RuntimeError as exc:  # grpc's "Failed to bind to address"
                self._http.server_close()
                raise ListenError(_cannot_listen("OTLP/gRPC", host, grpc_port, "in use or not permitted")) from exc
            except Exception:
                self._http.server_close()
                raise
        self._http_thread = threading.Thread(target=self._http.serve_forever, name="otel-meta-http",
                                             kwargs={"poll_interval": 0.1}, daemon=True)
        self._started = False
        self._stopped = False

    @property
    def http_address(self) -> tuple[str, int]:
        host, port = self._http.server_address[:2]
        return str(host), int(port)

    @property
    def grpc_address(self) -> tuple[str, int] | None:
        return None if self._grpc_port is None else (self.host, self._grpc_port)

    @property
    def base_url(self) -> str:
        host, port = self.http_address
        return f"http://{host}:{port}"

    def start(self) -> AnalyzerServer:
        if self._started:
            return self
        self._started = True
        self.ingest.start()
        self._http_thread.start()
        if self._grpc is not None:
            self._grpc.start()
        logger.info("listening http=%s:%d grpc=%s", *self.http_address,
                    "{}:{}".format(*self.grpc_address) if self.grpc_address else "off")
        return self

    def stop(self, grace_s: float = 10.0) -> None:
        """Stop accepting, let the requests in flight finish (and commit), then stop the writer."""
        if self._stopped:
            return
        self._stopped = True
        grpc_done = self._grpc.stop(grace_s) if self._grpc is not None else None
        if self._started:
            self._http.shutdown()
        self._http.close_idle_connections()
        self._http.server_close()
        if grpc_done is not None:
            grpc_done.wait(grace_s + 1)
        self.ingest.stop()
        logger.info("stopped")

    def __enter__(self) -> AnalyzerServer:  # noqa: PYI034 - typing.Self needs 3.11
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
