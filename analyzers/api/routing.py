"""The tiny routing layer the analyzer's HTTP server dispatches through.

Each REST module (``analyzers.api.runs``, ``.patterns``, ``.meta_agent``, ...) exposes
``routes() -> list[Route]``; ``analyzers.api.all_routes()`` collects them. A handler takes the parsed
``Request`` and the ``ServiceContext`` and returns a ``Response``; it raises ``HttpError`` for a
client error (the server turns it into ``{"error": message}`` with that status).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analyzers.api.context import ServiceContext


class HttpError(Exception):
    """A client error with its HTTP status; the message is sent as ``{"error": message}``."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes = b""
    params: Mapping[str, str] = field(default_factory=dict)

    def query_value(self, name: str) -> str | None:
        """The query parameter ``name``; ``None`` when it is absent or empty (``?name=``)."""
        return self.query.get(name) or None

    def json(self) -> Any:
        """The body parsed as JSON; a 400 ``HttpError`` when it is not JSON, is nested deeper than
        ``MAX_JSON_DEPTH`` or holds a string that is not valid Unicode (a lone surrogate escape)."""
        try:
            obj = json.loads(self.body or b"null")
        except RecursionError:
            raise HttpError(400, f"request body is nested deeper than {MAX_JSON_DEPTH} levels") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise HttpError(400, f"request body is not valid JSON: {exc}") from None
        _check_json(obj)
        return obj


#: REST bodies are small objects; anything nested deeper is refused (400) before a handler sees it.
MAX_JSON_DEPTH = 32


def _check_json(obj: Any) -> None:
    stack = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise HttpError(400, f"request body is nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(node, dict):
            stack.extend((k, depth + 1) for k in node)
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
        elif isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                raise HttpError(400, "request body holds a string that is not valid Unicode "
                                     "(a lone surrogate escape such as \\ud800)") from None


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


def json_response(obj: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(obj, separators=(",", ":")).encode())


Handler = Callable[[Request, "ServiceContext"], Response]


@dataclass(frozen=True)
class Route:
    """``pattern`` is a path template such as ``/api/runs/{trace_id}``; each ``{name}`` matches one
    path segment and is handed to the handler in ``Request.params``."""

    method: str
    pattern: str
    handler: Handler

    def match(self, path: str) -> dict[str, str] | None:
        m = _compile(self.pattern).fullmatch(path)
        return m.groupdict() if m else None


_COMPILED: dict[str, re.Pattern[str]] = {}


def _compile(pattern: str) -> re.Pattern[str]:
    rx = _COMPILED.get(pattern)
    if rx is None:
        rx = re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(pattern)))
        _COMPILED[pattern] = rx
    return rx
