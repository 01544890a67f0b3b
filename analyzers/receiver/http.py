"""The HTTP side of the analyzer: OTLP/HTTP ``POST /v1/traces``, ``/v1/logs``, ``/v1/metrics``,
``GET /healthz`` and the REST API, as one ASGI application served by uvicorn.

Why uvicorn (with its pure-Python h11 protocol): it is the ASGI server the Python field runs in
production, maintained, small (h11 and click are its only dependencies), and it leaves the request
body to the application as a stream of chunks, so the receiver can put a deadline and a minimum rate
on every body, count the bytes it holds and answer before it reads (a refusal never costs the memory
of the body; uvicorn discards the unread rest and keeps the connection). Its graceful shutdown stops
accepting, lets the requests in flight finish and closes idle keep-alive connections. asyncio sets
``TCP_NODELAY`` on every connection, so keep-alive exporters do not wait for delayed ACKs.

What uvicorn does not bound, this module does: a deadline on request headers (``HeaderDeadlineH11``),
the body's pace (``BodyPace``), bodies per client (``ClientSlots``) and bytes in flight
(``MemoryBudget``). CPU work (decompression, parsing, decoding) and store calls run in thread pools,
never on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import status_pb2
from uvicorn.protocols.http.h11_impl import H11Protocol

from analyzers.api.routing import HttpError, Request, Response, Route
from analyzers.errors import (
    MalformedPayloadError,
    OverloadedError,
    PayloadTooLargeError,
    SpanValueError,
    StoreError,
)
from analyzers.receiver import otlp
from analyzers.receiver.admission import BodyPace, ClientSlots, MemoryBudget, Reservation
from analyzers.receiver.auth import bearer_matches
from analyzers.receiver.exports import SIGNALS, OtlpExports, Signal

if TYPE_CHECKING:
    from analyzers.api.context import ServiceContext

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
TRACES_PATH = "/v1/traces"
_PROTOBUF = "application/x-protobuf"
_JSON = "application/json"
_RETRY_AFTER = {"Retry-After": "1"}
_GRPC_CODE = {400: 3, 401: 16, 408: 4, 413: 8, 415: 3, 429: 14, 503: 14, 500: 13}
#: Request headers must arrive whole within this many seconds of the connection (or of the previous
#: answer on a keep-alive connection); uvicorn alone times out only idle keep-alive connections.
HEADER_DEADLINE_S = 10.0


class HeaderDeadlineH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline on each request's headers (a slow-headers client is cut)."""

    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()

    def _arm_header_deadline(self) -> None:
        self._cancel_header_deadline()
        self._header_timer = self.loop.call_later(self._deadline_s(), self._headers_too_slow)

    def _deadline_s(self) -> float:
        return float(getattr(self.app, "header_deadline_s", HEADER_DEADLINE_S))

    def _cancel_header_deadline(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            logger.info("closing a connection whose request headers took over %.1f s", self._deadline_s())
            self.transport.close()

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a request's headers arrived
            self._cancel_header_deadline()

    def on_response_complete(self) -> None:
        self._arm_header_deadline()  # before the base class starts a pipelined request's cycle
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)


class _Refusal(Exception):
    """An answer other than success, raised from deep inside a request's handling."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None,
                 close: bool = False) -> None:
        super().__init__(message)
        self.status, self.message, self.headers, self.close = status, message, dict(headers or {}), close


class _ClientGone(Exception):
    """The client disconnected before its body was read whole."""


class ReceiverApp:
    """The ASGI application: OTLP/HTTP for every signal, ``/healthz`` and the REST routes.

    With ``token`` set, every path except ``/healthz`` needs ``Authorization: Bearer <token>``.
    """

    def __init__(self, *, exports: OtlpExports, context: ServiceContext, routes: list[Route],
                 token: str | None, max_body_bytes: int, budget: MemoryBudget, slots: ClientSlots,
                 pace: BodyPace, ingest_pool: Executor, api_pool: Executor,
                 header_deadline_s: float = HEADER_DEADLINE_S) -> None:
        self.exports = exports
        self.context = context
        self.routes = routes
        self.token = token
        self.max_body_bytes = max_body_bytes
        self.budget = budget
        self.slots = slots
        self.pace = pace
        self.ingest_pool = ingest_pool
        self.api_pool = api_pool
        self.header_deadline_s = header_deadline_s
        self.signals = {s.path: s for s in SIGNALS}
        #: Set when the server stops: every answer then says ``Connection: close``.
        self.stopping = False

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Any], send: Callable[[Any], Any]) -> None:
        if scope["type"] != "http":
            return
        exchange = _Exchange(self, scope, receive, send)
        try:
            await self._dispatch(exchange)
        except _Refusal as refusal:
            await exchange.refuse(refusal)
        except _ClientGone:
            return
        except Exception:
            logger.exception("%s %s failed", scope["method"], scope["path"])
            if not exchange.started:
                await exchange.send_json(500, {"error": "internal error; see the analyzer's log"})

    async def _dispatch(self, ex: _Exchange) -> None:
        method, path = ex.scope["method"], ex.path
        if path == HEALTH_PATH and method == "GET":
            problem = await self._in_pool(self.api_pool, self._health)
            await ex.send_json(200 if problem is None else 503,
                               {"status": "ok"} if problem is None else {"status": "not ready", "reason": problem})
            return
        signal = self.signals.get(path)
        ex.kind = _media_kind(ex.header("content-type")) if signal is not None else None
        if self.token is not None and not bearer_matches(ex.header("authorization"), self.token):
            raise _Refusal(401, "missing or wrong bearer token (send 'Authorization: Bearer <token>')",
                           {"WWW-Authenticate": 'Bearer realm="otel-meta"'})
        length = ex.content_length()
        if length is not None and length > self.max_body_bytes:
            raise _Refusal(413, f"the body ({length} bytes) is over the limit of {self.max_body_bytes} bytes",
                           close=length > 4 * self.max_body_bytes)
        if signal is not None:
            if method != "POST":
                raise _Refusal(405, f"use POST for {path}", {"Allow": "POST"})
            await self._export(ex, signal)
            return
        await self._route(ex, method, path)

    def _handle(self, route: Route, request: Request) -> Response:
        self.context.await_runs()  # read-your-writes: the runs of every span acknowledged before this request
        return route.handler(request, self.context)

    def _health(self) -> str | None:
        return self.exports.ingest.health() or self.context.store.health()

    async def _in_pool(self, pool: Executor, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

    async def _read_body(self, ex: _Exchange, reservation: Reservation) -> bytearray:
        """The whole body, read at the pace ``BodyPace`` demands, each chunk reserved before it is kept."""
        body = bytearray()  # grown in place: no second copy of the body when it is complete
        received = 0
        started = time.monotonic()
        while True:
            wait = self.pace.wait_budget(started, received)
            try:
                if wait <= 0:
                    raise asyncio.TimeoutError
                message = await asyncio.wait_for(ex.receive(), wait)
            except asyncio.TimeoutError:
                raise _Refusal(408, f"the body arrived too slowly ({received} bytes in "
                                    f"{time.monotonic() - started:.1f} s); send it at least "
                                    f"{self.pace.min_rate_bytes_per_s / 1024:.0f} KiB/s after the first "
                                    f"{self.pace.grace_s:.0f} s, whole within {self.pace.total_s:.0f} s",
                               close=True) from None
            if message["type"] == "http.disconnect":
                raise _ClientGone
            chunk = message.get("body", b"")
            if chunk:
                received += len(chunk)
                if received > self.max_body_bytes:
                    raise _Refusal(413, f"the body is over the limit of {self.max_body_bytes} bytes", close=True)
                try:
                    reservation.add(len(chunk), "the request body")
                except OverloadedError as exc:
                    raise _Refusal(503, str(exc), _RETRY_AFTER) from None
                body += chunk
            if not message.get("more_body", False):
                return body

    async def _export(self, ex: _Exchange, signal: Signal) -> None:
        if ex.kind is None:
            raise _Refusal(415, f"unsupported Content-Type {ex.header('content-type')!r}; send {_PROTOBUF} or {_JSON}")
        encoding = (ex.header("content-encoding") or "identity").strip().lower()
        if encoding not in ("identity", "gzip"):
            raise _Refusal(415, f"unsupported Content-Encoding {encoding!r}; send gzip or none")
        reservation = Reservation(self.budget, 0)
        try:
            with ex.client_slot():
                body = await self._read_body(ex, reservation)
            outcome = await self._in_pool(self.ingest_pool, self._export_sync, signal, body,
                                          encoding == "gzip", ex.kind == _JSON, reservation)
            del body
        finally:
            reservation.release()
        if isinstance(outcome, _Refusal):
            raise outcome
        if ex.kind == _PROTOBUF:
            await ex.send(200, outcome.SerializeToString(), _PROTOBUF)
        else:
            await ex.send_json(200, json_format.MessageToDict(outcome))

    def _export_sync(self, signal: Signal, body: bytes | bytearray, gzipped: bool, as_json: bool,
                     reservation: Reservation) -> Message | _Refusal:
        """The OTLP response, or the refusal to answer with. A refusal is returned, not raised: a raised
        exception's traceback would keep this request's body and parsed message alive after its
        memory is released back to the budget."""
        try:
            if gzipped:
                body = otlp.gunzip(body, self.max_body_bytes,
                                   lambda n: reservation.add(n, "the decompressed body"))
            return self.exports.export(signal, body, reservation, json=as_json)
        except (MalformedPayloadError, SpanValueError) as exc:
            return _Refusal(400, str(exc))
        except PayloadTooLargeError as exc:
            return _Refusal(413, str(exc))
        except OverloadedError as exc:
            return _Refusal(503, str(exc), _RETRY_AFTER)
        except StoreError as exc:
            logger.error("store error while ingesting %s: %s", signal.name, exc)
            return _Refusal(503, f"the store could not commit the {signal.name}: {exc}", _RETRY_AFTER)

    async def _route(self, ex: _Exchange, method: str, path: str) -> None:
        allowed: list[str] = []
        for route in self.routes:
            params = route.match(path)
            if params is None:
                continue
            if route.method != method:
                allowed.append(route.method)
                continue
            reservation = Reservation(self.budget, 0)
            try:
                with ex.client_slot():
                    body = await self._read_body(ex, reservation)
                request = Request(method, path, dict(parse_qsl(ex.scope["query_string"].decode("latin-1"))),
                                  ex.headers, bytes(body), params)
                try:
                    response: Response = await self._in_pool(self.api_pool, self._handle, route, request)
                except HttpError as exc:
                    await ex.send_json(exc.status, {"error": exc.message}, exc.headers)
                    return
            finally:
                reservation.release()
            await ex.send(response.status, response.body, response.content_type, response.headers)
            return
        if allowed:
            methods = sorted(set(allowed))
            raise _Refusal(405, f"use {' or '.join(methods)} for {path}", {"Allow": ", ".join(methods)})
        raise _Refusal(404, f"no such endpoint: {method} {path}")


class _Exchange:
    """One request and its answer."""

    def __init__(self, app: ReceiverApp, scope: dict[str, Any], receive: Callable[[], Any],
                 send: Callable[[Any], Any]) -> None:
        self.app = app
        self.scope = scope
        self.receive = receive
        self._send = send
        self.path = scope["path"].rstrip("/") or "/"
        self.headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        self.kind: str | None = None
        self.started = False
        client = scope.get("client")
        self.client = str(client[0]) if client else "unknown"

    def header(self, name: str) -> str:
        return self.headers.get(name, "")

    def content_length(self) -> int | None:
        raw = self.headers.get("content-length")
        return int(raw) if raw is not None and raw.strip().isdigit() else None

    def client_slot(self) -> _SlotGuard:
        return _SlotGuard(self.app.slots, self.client)

    async def send(self, status: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None,
                   close: bool = False) -> None:
        raw = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
        raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
        if close or self.app.stopping:
            raw.append((b"connection", b"close"))
        self.started = True
        await self._send({"type": "http.response.start", "status": status, "headers": raw})
        await self._send({"type": "http.response.body", "body": body, "more_body": False})

    async def send_json(self, status: int, obj: Any, headers: Mapping[str, str] | None = None) -> None:
        await self.send(status, json.dumps(obj, separators=(",", ":")).encode(), _JSON, headers)

    async def refuse(self, refusal: _Refusal) -> None:
        """An error answer, in the request's OTLP encoding on the OTLP paths (as OTLP specifies)."""
        code = _GRPC_CODE.get(refusal.status, 2)
        if self.kind == _PROTOBUF:
            body = status_pb2.Status(code=code, message=refusal.message).SerializeToString()
            await self.send(refusal.status, body, _PROTOBUF, refusal.headers, refusal.close)
        elif self.kind == _JSON:
            await self.send(refusal.status, json.dumps({"code": code, "message": refusal.message}).encode(),
                            _JSON, refusal.headers, refusal.close)
        else:
            await self.send(refusal.status, json.dumps({"error": refusal.message}).encode(), _JSON,
                            refusal.headers, refusal.close)


class _SlotGuard:
    def __init__(self, slots: ClientSlots, client: str) -> None:
        self.slots, self.client = slots, client

    def __enter__(self) -> None:
        try:
            self.slots.acquire(self.client)
        except OverloadedError as exc:
            raise _Refusal(503, str(exc), _RETRY_AFTER) from None

    def __exit__(self, *exc: object) -> None:
        self.slots.release(self.client)


def _media_kind(content_type: str) -> str | None:
    media = content_type.split(";", 1)[0].strip().lower()
    if media in (_PROTOBUF, "application/protobuf"):
        return _PROTOBUF
    if media == _JSON:
        return _JSON
    return None
