"""The HTTP side of the analyzer: OTLP/HTTP ``POST /v1/traces``, ``GET /healthz`` and the REST API.

One thread per connection (``ThreadingHTTPServer``); a semaphore bounds how many request bodies are
held at once, so memory stays bounded under overload. Every refusal answers first and then drains the
request body (up to a cap), so the client can read the status instead of seeing a reset connection.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from google.rpc import status_pb2

from analyzers.api.routing import HttpError, Request, Response, Route
from analyzers.errors import (
    MalformedPayloadError,
    OverloadedError,
    PayloadTooLargeError,
    SpanValueError,
    StoreError,
)
from analyzers.receiver import otlp
from analyzers.receiver.auth import bearer_matches

if TYPE_CHECKING:
    from analyzers.api.context import ServiceContext
    from analyzers.receiver.ingest import IngestQueue

logger = logging.getLogger(__name__)

TRACES_PATH = "/v1/traces"
HEALTH_PATH = "/healthz"
_PROTOBUF = "application/x-protobuf"
_JSON = "application/json"
_RETRY_AFTER_S = "1"
_DRAIN_CHUNK = 1 << 16
_GRPC_CODE = {400: 3, 401: 16, 413: 8, 415: 3, 429: 14, 503: 14, 500: 13}


class ReceiverHttpServer(ThreadingHTTPServer):
    """A ``ThreadingHTTPServer`` that knows its service and can stop gracefully."""

    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], *, ingest: IngestQueue, context: ServiceContext,
                 routes: list[Route], token: str | None, max_body_bytes: int, max_inflight: int = 32) -> None:
        super().__init__(address, _Handler)
        self.ingest = ingest
        self.context = context
        self.routes = routes
        self.token = token
        self.max_body_bytes = max_body_bytes
        self.drain_cap = max(4 * max_body_bytes, 64 << 20)
        self.bodies = threading.BoundedSemaphore(max_inflight)
        self.stopping = False
        self._connections: dict[socket.socket, _Handler] = {}
        self._conn_lock = threading.Lock()

    def track(self, sock: socket.socket, handler: _Handler | None) -> None:
        with self._conn_lock:
            if handler is None:
                self._connections.pop(sock, None)
            else:
                self._connections[sock] = handler

    def close_idle_connections(self) -> None:
        """Wake connections waiting for their next request so their threads end (graceful stop)."""
        self.stopping = True
        with self._conn_lock:
            idle = [s for s, h in self._connections.items() if not h.busy]
        for sock in idle:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    #: Headers and body go out in two writes; with Nagle on, a keep-alive client's next request would
    #: wait for the delayed ACK (~40 ms) of the body.
    disable_nagle_algorithm = True
    server: ReceiverHttpServer
    busy = False
    #: A silent client cannot hold a thread forever.
    timeout = 60

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, self)

    def finish(self) -> None:
        self.server.track(self.connection, None)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def parse_request(self) -> bool:
        self.busy = True
        return super().parse_request()

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        finally:
            self.busy = False
            if self.server.stopping:
                self.close_connection = True

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # --- plumbing ------------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None,
              close: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if close or self.server.stopping:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def _send_json(self, status: int, obj: Any, headers: Mapping[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj, separators=(",", ":")).encode(), _JSON, headers)

    def _content_length(self) -> int | None:
        raw = self.headers.get("Content-Length")
        if raw is None:
            return None
        try:
            n = int(raw)
        except ValueError:
            return -1
        return n if n >= 0 else -1

    def _drain(self, remaining: int) -> None:
        """Read and drop an unread body so the client sees our answer; close when it is too large."""
        if remaining <= 0:
            return
        if remaining > self.server.drain_cap:
            self.close_connection = True
            return
        try:
            while remaining > 0:
                chunk = self.rfile.read(min(_DRAIN_CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
        except OSError:
            self.close_connection = True

    def _refuse(self, status: int, message: str, kind: str | None, unread: int,
                headers: Mapping[str, str] | None = None) -> None:
        """Answer an error (in the request's OTLP encoding for /v1/traces), then drain the body."""
        hdrs = dict(headers or {})
        if kind == _PROTOBUF:
            body = status_pb2.Status(code=_GRPC_CODE.get(status, 2), message=message).SerializeToString()
            self._send(status, body, _PROTOBUF, hdrs, close=unread > self.server.drain_cap)
        elif kind == _JSON:
            self._send(status, json.dumps({"code": _GRPC_CODE.get(status, 2), "message": message}).encode(),
                       _JSON, hdrs, close=unread > self.server.drain_cap)
        else:
            self._send(status, json.dumps({"error": message}).encode(), _JSON, hdrs,
                       close=unread > self.server.drain_cap)
        self._drain(unread)

    def _authorized(self) -> bool:
        token = self.server.token
        if token is None:
            return True
        given = self.headers.get("Authorization", "")
        return bearer_matches(given, token)

    # --- dispatch ------------------------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        length = self._content_length()
        unread = max(length or 0, 0)
        if path == HEALTH_PATH and method == "GET":
            self._drain(unread)
            problem = self.server.ingest.health() or self.server.context.store.health()
            self._send_json(200 if problem is None else 503,
                            {"status": "ok"} if problem is None else {"status": "not ready", "reason": problem})
            return
        kind = _media_kind(self.headers.get("Content-Type", "")) if path == TRACES_PATH else None
        if not self._authorized():
            self._refuse(401, "missing or wrong bearer token (send 'Authorization: Bearer <token>')", kind,
                         unread, {"WWW-Authenticate": 'Bearer realm="otel-meta"'})
            return
        if length == -1:
            self._refuse(400, "invalid Content-Length header", kind, 0, {})
            self.close_connection = True
            return
        if length is None and self.headers.get("Transfer-Encoding"):
            self._refuse(411, "send the body with a Content-Length header (chunked bodies are not accepted)",
                         kind, 0)
            self.close_connection = True
            return
        if unread > self.server.max_body_bytes:
            self._refuse(413, f"the body ({unread} bytes) is over the limit of {self.server.max_body_bytes} bytes",
                         kind, unread)
            return
        if path == TRACES_PATH:
            if method != "POST":
                self._refuse(405, "use POST for /v1/traces", None, unread, {"Allow": "POST"})
                return
            self._export(kind, unread)
            return
        self._route(method, path, dict(parse_qsl(url.query)), unread)

    def _export(self, kind: str | None, length: int) -> None:
        if kind is None:
            self._refuse(415, f"unsupported Content-Type {self.headers.get('Content-Type')!r}; "
                              f"send {_PROTOBUF} or {_JSON}", None, length)
            return
        encoding = (self.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding not in ("identity", "gzip"):
            self._refuse(415, f"unsupported Content-Encoding {encoding!r}; send gzip or none", kind, length)
            return
        if not self.server.bodies.acquire(timeout=5):
            self._refuse(503, "too many requests in flight; retry later", kind, length,
                         {"Retry-After": _RETRY_AFTER_S})
            return
        try:
            body = self.rfile.read(length) if length else b""
            if len(body) < length:
                self.close_connection = True
                return
            try:
                if encoding == "gzip":
                    body = otlp.gunzip(body, self.server.max_body_bytes)
                request = otlp.parse_protobuf(body) if kind == _PROTOBUF else otlp.parse_json(body)
                del body
                batch = otlp.decode_request(request)
                del request
                self.server.ingest.submit(batch.spans)
            except (MalformedPayloadError, SpanValueError) as exc:
                self._refuse(400, str(exc), kind, 0)
                return
            except PayloadTooLargeError as exc:
                self._refuse(413, str(exc), kind, 0)
                return
            except OverloadedError as exc:
                self._refuse(503, str(exc), kind, 0, {"Retry-After": _RETRY_AFTER_S})
                return
            except StoreError as exc:
                logger.error("store error while ingesting: %s", exc)
                self._refuse(503, f"the store could not commit the spans: {exc}", kind, 0,
                             {"Retry-After": _RETRY_AFTER_S})
                return
        finally:
            self.server.bodies.release()
        if kind == _PROTOBUF:
            self._send(200, batch.export_response().SerializeToString(), _PROTOBUF)
        else:
            obj: dict[str, Any] = {}
            if batch.rejected:
                obj["partialSuccess"] = {"rejectedSpans": str(batch.rejected), "errorMessage": batch.error_message}
            self._send_json(200, obj)

    def _route(self, method: str, path: str, query: dict[str, str], length: int) -> None:
        allowed: list[str] = []
        for route in self.server.routes:
            params = route.match(path)
            if params is None:
                continue
            if route.method != method:
                allowed.append(route.method)
                continue
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            request = Request(method, path, query, headers, body, params)
            try:
                response: Response = route.handler(request, self.server.context)
            except HttpError as exc:
                self._send_json(exc.status, {"error": exc.message}, exc.headers)
                return
            except Exception:
                logger.exception("%s %s failed", method, path)
                self._send_json(500, {"error": "internal error; see the analyzer's log"})
                return
            self._send(response.status, response.body, response.content_type, response.headers)
            return
        if allowed:
            self._refuse(405, f"use {' or '.join(sorted(set(allowed)))} for {path}", None, length,
                         {"Allow": ", ".join(sorted(set(allowed)))})
        else:
            self._refuse(404, f"no such endpoint: {method} {path}", None, length)


def _media_kind(content_type: str) -> str | None:
    media = content_type.split(";", 1)[0].strip().lower()
    if media in (_PROTOBUF, "application/protobuf"):
        return _PROTOBUF
    if media == _JSON:
        return _JSON
    return None
