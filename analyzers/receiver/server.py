"""``AnalyzerServer``: the OTLP receiver (HTTP and gRPC) and the REST API of one analyzer service."""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import uvicorn

from analyzers.receiver.admission import BodyPace, ClientSlots, MemoryBudget
from analyzers.receiver.assembler import READ_BARRIER_S
from analyzers.receiver.binding import bind_http_socket, require_token_beyond_loopback
from analyzers.receiver.exports import OtlpExports
from analyzers.receiver.grpc_service import build_grpc_server
from analyzers.receiver.http import HEADER_DEADLINE_S, HeaderDeadlineH11, ReceiverApp
from analyzers.receiver.ingest import IngestQueue
from analyzers.store.base import Store

if TYPE_CHECKING:
    import grpc

    from analyzers.api.context import ServiceContext

logger = logging.getLogger(__name__)


class AnalyzerServer:
    """Serves OTLP/HTTP ``POST /v1/traces``, ``/v1/logs`` and ``/v1/metrics`` (protobuf or JSON, gzip or
    not), OTLP/gRPC ``TraceService``, ``LogsService`` and ``MetricsService``, ``GET /healthz`` and every
    route of ``analyzers.api.all_routes()``.

    A success reply is sent only after the spans (or evaluations) are committed to ``store``; their runs
    are assembled right after (``await_runs`` waits for that; every REST route does). With
    ``token`` set, every endpoint except ``/healthz`` needs ``Authorization: Bearer <token>``; a host
    other than loopback needs a token (``InsecureBindError``). Port 0 picks a free port (read it from
    ``http_address`` / ``grpc_address``); ``grpc_port=None`` serves no gRPC. A port that cannot be
    bound raises ``ListenError``. Memory held by requests in flight stays under
    ``max_inflight_bytes`` (see ``analyzers.receiver.admission``).
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
        max_inflight_bytes: int = 512 << 20,
        bodies_per_client: int = 64,
        body_pace: BodyPace | None = None,
        grpc_max_concurrent: int = 8,
        header_deadline_s: float = HEADER_DEADLINE_S,
        grace_s: float = 10.0,
    ) -> None:
        from analyzers.api import all_routes
        from analyzers.api.context import ServiceContext

        token = token or None
        require_token_beyond_loopback(host, token)
        self.store = store
        self.host = host
        self.grace_s = grace_s
        self.context = context if context is not None else ServiceContext(store=store)
        self.ingest = IngestQueue(store, max_queued_spans=max_queued_spans)
        self.context.read_barrier = self.ingest.await_assembled
        if self.context.meta_agent is not None:  # the learning cycle of serve --learn-every reads runs too
            self.context.meta_agent.read_barrier = self.ingest.await_assembled
        self.budget = MemoryBudget(max(max_inflight_bytes, max_body_bytes))
        self.exports = OtlpExports(self.ingest, store, max_items_per_request=max_queued_spans)
        self._ingest_pool = ThreadPoolExecutor(8, thread_name_prefix="otel-meta-ingest")
        self._api_pool = ThreadPoolExecutor(4, thread_name_prefix="otel-meta-api")
        self.app = ReceiverApp(
            exports=self.exports, context=self.context, routes=all_routes(), token=token,
            max_body_bytes=max_body_bytes, budget=self.budget, slots=ClientSlots(bodies_per_client),
            pace=body_pace or BodyPace(), ingest_pool=self._ingest_pool, api_pool=self._api_pool,
            header_deadline_s=header_deadline_s,
        )
        self._socket = bind_http_socket(host, http_port)
        self._uvicorn = uvicorn.Server(uvicorn.Config(
            self.app, http=HeaderDeadlineH11, interface="asgi3", ws="none", lifespan="off", log_config=None, access_log=False,
            proxy_headers=False, server_header=False, timeout_keep_alive=30, timeout_graceful_shutdown=max(1, round(grace_s)),
            limit_concurrency=4096, h11_max_incomplete_event_size=64 << 10,
        ))
        self._grpc: grpc.Server | None = None
        self._grpc_port: int | None = None
        if grpc_port is not None:
            try:
                self._grpc, self._grpc_port = build_grpc_server(
                    self.exports, self.budget, host=host, port=grpc_port, token=token,
                    max_body_bytes=max_body_bytes, max_concurrent=grpc_max_concurrent)
            except BaseException:
                self._socket.close()
                raise
        self._http_thread = threading.Thread(target=self._serve_http, name="otel-meta-http", daemon=True)
        self._ready = threading.Event()
        self._started = False
        self._stopped = False

    @property
    def http_address(self) -> tuple[str, int]:
        host, port = self._socket.getsockname()[:2]
        return str(host), int(port)

    @property
    def grpc_address(self) -> tuple[str, int] | None:
        return None if self._grpc_port is None else (self.host, self._grpc_port)

    @property
    def base_url(self) -> str:
        host, port = self.http_address
        return f"http://{host}:{port}"

    def await_runs(self, timeout: float = READ_BARRIER_S) -> bool:
        """Wait until the runs of every span acknowledged so far are assembled (the barrier every REST
        route passes; for readers of ``store`` in this process). ``False`` when that did not happen
        within ``timeout`` seconds (or cannot: assembly fails, or the assembler has stopped)."""
        return self.ingest.await_assembled(timeout)

    @property
    def counters(self) -> dict[str, int]:
        """What was accepted, rejected, dropped and refused since start (e.g. ``spans_accepted``)."""
        return self.exports.counters.snapshot()

    def _serve_http(self) -> None:
        async def serve() -> None:
            task = asyncio.create_task(self._uvicorn.serve(sockets=[self._socket]))
            while not self._uvicorn.started and not task.done():
                await asyncio.sleep(0.01)
            self._ready.set()
            await task

        try:
            asyncio.run(serve())
        finally:
            self._ready.set()

    def start(self) -> AnalyzerServer:
        if self._started:
            return self
        self._started = True
        self.ingest.start()
        self._http_thread.start()
        self._ready.wait(30)
        if self._grpc is not None:
            self._grpc.start()
        logger.info("listening http=%s:%d grpc=%s", *self.http_address,
                    "{}:{}".format(*self.grpc_address) if self.grpc_address else "off")
        return self

    def stop(self, grace_s: float | None = None) -> None:
        """Stop accepting, let the requests in flight finish (and commit), then stop the writer."""
        if self._stopped:
            return
        self._stopped = True
        grace = self.grace_s if grace_s is None else grace_s
        grpc_done = self._grpc.stop(grace) if self._grpc is not None else None
        self.app.stopping = True
        self._uvicorn.should_exit = True
        if self._started:
            self._http_thread.join(grace + 5)
        else:
            self._socket.close()
        if grpc_done is not None:
            grpc_done.wait(grace + 1)
        self._ingest_pool.shutdown(wait=True)
        self._api_pool.shutdown(wait=True)
        self.ingest.stop()
        logger.info("stopped")

    def __enter__(self) -> AnalyzerServer:  # noqa: PYI034 - typing.Self needs 3.11
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
