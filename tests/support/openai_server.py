"""An OpenAI-compatible HTTP server on 127.0.0.1 that serves scripted answers.

It stands in for a hosted LLM (a remote paid service) and speaks the real protocol: JSON bodies for
``POST /v1/chat/completions`` and ``POST /v1/responses``, Server-Sent Events (chunked transfer encoding)
when the request asks for ``stream``, real HTTP error statuses, and a stream that is cut mid-way (the
connection is closed without the final chunk, so the client sees a broken body).

    with OpenAIStandIn() as server:
        server.enqueue(JsonReply(chat_completion(content="hi")))
        client = openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0)

Replies are taken from a FIFO queue; when it is empty the server answers with ``responder(request)`` when
one is set (a scripted model that answers by what the request holds), else with ``default`` (a plain chat
completion unless set). Every request body is recorded in ``requests``. A client that drops its connection
(a reset while the server reads or writes) is normal in tests of cut streams and timeouts: the server
counts it in ``disconnects`` instead of printing a traceback.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class JsonReply:
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class SseReply:
    """``events`` are ``(event_name or None, data)``; data is a dict (sent as JSON) or a string.

    ``cut_after`` closes the connection after that many events, without ending the chunked body.
    ``done`` appends the chat API's ``data: [DONE]`` terminator.
    """

    events: list[tuple[str | None, Any]]
    cut_after: int | None = None
    done: bool = True


Reply = JsonReply | SseReply


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: Any


class _QuietServer(ThreadingHTTPServer):
    """Treats a client's disconnect as the end of that conversation, not as a server error."""

    daemon_threads = True

    def __init__(self, stand_in: OpenAIStandIn) -> None:
        super().__init__(("127.0.0.1", 0), _make_handler(stand_in))
        self.stand_in = stand_in

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # reset, broken pipe, aborted
            with self.stand_in._lock:
                self.stand_in.disconnects += 1
            return
        super().handle_error(request, client_address)


class OpenAIStandIn:
    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.default: Reply = JsonReply(chat_completion(content="ok"))
        self.responder: Callable[[RecordedRequest], Reply] | None = None
        self.requests: list[RecordedRequest] = []
        #: Connections the client dropped while the server was reading or writing.
        self.disconnects = 0
        self._lock = threading.Lock()
        self._server = _QuietServer(self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            if self.replies:
                return self.replies.popleft()
        return self.responder(request) if self.responder is not None else self.default

    def start(self) -> OpenAIStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> OpenAIStandIn:  # noqa: PYI034 - typing.Self needs 3.11
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _make_handler(stand_in: OpenAIStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; without TCP_NODELAY each reply waits ~40 ms for
        # the client's delayed ACK.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._send_json(200, {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]})
            else:
                self._send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = raw.decode(errors="replace")
            request = RecordedRequest(self.path, dict(self.headers), body)
            stand_in.requests.append(request)
            reply = stand_in._next_reply(request)
            if isinstance(reply, SseReply):
                self._send_sse(reply)
            else:
                self._send_json(reply.status, reply.body, reply.headers)

        def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode() if not isinstance(body, (bytes, str)) else (
                body.encode() if isinstance(body, str) else body
            )
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _send_sse(self, reply: SseReply) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i, (event, data) in enumerate(reply.events):
                if reply.cut_after is not None and i >= reply.cut_after:
                    self.close_connection = True
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    return
                payload = data if isinstance(data, str) else json.dumps(data)
                text = (f"event: {event}\n" if event else "") + f"data: {payload}\n\n"
                self._chunk(text.encode())
            if reply.done:
                self._chunk(b"data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    return Handler


# --- recorded bodies -----------------------------------------------------------------------------------


def chat_completion(
    content: str | None = "ok",
    *,
    model: str = "gpt-4o-mini-2024-07-18",
    tool_calls: list[tuple[str, str, str]] | None = None,
    reasoning_content: str | None = None,
    reasoning: str | None = None,
    finish_reason: str | None = None,
    prompt_tokens: int = 12,
    completion_tokens: int = 7,
    reasoning_tokens: int | None = None,
) -> dict[str, Any]:
    """A ``chat.completion`` body. ``tool_calls`` are ``(id, name, arguments_json)``."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = [
            {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
            for cid, name, args in tool_calls
        ]
    if reasoning_content is not None:
        message["reasoning_content"] = reasoning_content
    if reasoning is not None:
        message["reasoning"] = reasoning
    usage: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    if reasoning_tokens is not None:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning_tokens}
    return {
        "id": "chatcmpl-standin",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": finish_reason or ("tool_calls" if tool_calls else "stop"),
            }
        ],
        "usage": usage,
    }


def chat_stream_events(
    content: str = "ok",
    *,
    model: str = "gpt-4o-mini-2024-07-18",
    tool_calls: list[tuple[str, str, str]] | None = None,
    reasoning_content: str | None = None,
    include_usage: bool = True,
    reasoning_tokens: int | None = None,
) -> list[tuple[str | None, Any]]:
    """The SSE events of a streamed chat completion: role, reasoning, content pieces, tool call
    deltas, the finish reason, and (``include_usage``) a final usage chunk."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> tuple[None, dict[str, Any]]:
        return (None, {
            "id": "chatcmpl-standin",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        })

    events: list[tuple[str | None, Any]] = [chunk({"role": "assistant", "content": ""})]
    if reasoning_content:
        half = len(reasoning_content) // 2
        events.append(chunk({"reasoning_content": reasoning_content[:half]}))
        events.append(chunk({"reasoning_content": reasoning_content[half:]}))
    for piece in (content[: len(content) // 2], content[len(content) // 2:]):
        if piece:
            events.append(chunk({"content": piece}))
    for i, (cid, name, args) in enumerate(tool_calls or []):
        events.append(chunk({"tool_calls": [
            {"index": i, "id": cid, "type": "function", "function": {"name": name, "arguments": ""}}
        ]}))
        events.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": args}}]}))
    events.append(chunk({}, "tool_calls" if tool_calls else "stop"))
    if include_usage:
        usage: dict[str, Any] = {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19}
        if reasoning_tokens is not None:
            usage["completion_tokens_details"] = {"reasoning_tokens": reasoning_tokens}
        events.append((None, {
            "id": "chatcmpl-standin", "object": "chat.completion.chunk", "created": 1,
            "model": model, "choices": [], "usage": usage,
        }))
    return events


def responses_body(
    text: str = "ok",
    *,
    model: str = "o4-mini-2025-04-16",
    reasoning_summary: str | None = None,
    function_calls: list[tuple[str, str, str]] | None = None,
    reasoning_tokens: int = 0,
) -> dict[str, Any]:
    """A Responses API ``response`` body. ``function_calls`` are ``(call_id, name, arguments_json)``."""
    output: list[dict[str, Any]] = []
    if reasoning_summary is not None:
        output.append({
            "id": "rs_1", "type": "reasoning",
            "summary": [{"type": "summary_text", "text": reasoning_summary}],
        })
    for call_id, name, args in function_calls or []:
        output.append({
            "id": f"fc_{call_id}", "type": "function_call", "call_id": call_id,
            "name": name, "arguments": args, "status": "completed",
        })
    if text:
        output.append({
            "id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        })
    return {
        "id": "resp_standin",
        "object": "response",
        "created_at": 1,
        "status": "completed",
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": 20,
            "output_tokens": 9,
            "total_tokens": 29,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        },
    }


def responses_stream_events(body: dict[str, Any]) -> list[tuple[str | None, Any]]:
    """The SSE events of a streamed Responses API call that ends with ``body``."""
    created = dict(body, status="in_progress", output=[])
    events: list[tuple[str | None, Any]] = [
        ("response.created", {"type": "response.created", "sequence_number": 0, "response": created}),
    ]
    seq = 1
    for i, item in enumerate(body["output"]):
        events.append(("response.output_item.done", {
            "type": "response.output_item.done", "sequence_number": seq, "output_index": i, "item": item,
        }))
        seq += 1
    events.append(("response.completed", {
        "type": "response.completed", "sequence_number": seq, "response": body,
    }))
    return events
