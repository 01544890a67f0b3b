"""REST routes for runs: list, one run, and a late outcome.

- ``GET /api/runs?agent=&limit=&pending=``: runs newest first (the ``otel-meta runs --json`` shape);
- ``GET /api/runs/{trace_id}``: one run (pending or complete), 404 for an unknown trace;
- ``POST /api/runs/{trace_id}/outcome`` with ``{"success": bool, "submission": str?}``: set or
  override the outcome; 404 for an unknown trace.

Any trace id of a run grouped by ``gen_ai.conversation.id`` names that run (``Store.get_run``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from analyzers.api.routing import HttpError, Request, Response, Route, json_response

if TYPE_CHECKING:
    from analyzers.api.context import ServiceContext

_TRACE_ID = re.compile(r"^[0-9a-f]{32}\Z")
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000


def _trace_id(request: Request) -> str:
    trace_id = request.params["trace_id"].lower()
    if not _TRACE_ID.match(trace_id):
        raise HttpError(400, f"trace id {request.params['trace_id']!r} is not 32 hex digits")
    return trace_id


def _limit(request: Request) -> int:
    raw = request.query_value("limit")
    if raw is None:
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise HttpError(400, f"limit must be an integer, not {raw!r}") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise HttpError(400, f"limit must be between 1 and {MAX_LIMIT}")
    return limit


def list_runs(request: Request, context: ServiceContext) -> Response:
    agent = request.query_value("agent")
    pending = request.query.get("pending", "").lower() in ("1", "true", "yes")
    runs = context.store.list_runs(agent, _limit(request), include_pending=pending)
    return json_response([r.to_json() for r in runs])


def get_run(request: Request, context: ServiceContext) -> Response:
    trace_id = _trace_id(request)
    run = context.store.get_run(trace_id)
    if run is None:
        raise HttpError(404, f"no run for trace {trace_id}")
    return json_response(run.to_json())


def set_outcome(request: Request, context: ServiceContext) -> Response:
    trace_id = _trace_id(request)
    body = request.json()
    if not isinstance(body, dict) or not isinstance(body.get("success"), bool):
        raise HttpError(400, 'send {"success": true|false, "submission": "..."} (success is required)')
    submission = body.get("submission")
    if submission is not None and not isinstance(submission, str):
        raise HttpError(400, "submission must be a string when given")
    if not context.store.set_outcome(trace_id, body["success"], submission):
        raise HttpError(404, f"no spans of trace {trace_id} have been received")
    run = context.store.get_run(trace_id)
    return json_response(run.to_json() if run is not None else {"trace_id": trace_id,
                                                                  "outcome": "success" if body["success"] else "failure"})


def routes() -> list[Route]:
    return [
        Route("GET", "/api/runs", list_runs),
        Route("GET", "/api/runs/{trace_id}", get_run),
        Route("POST", "/api/runs/{trace_id}/outcome", set_outcome),
    ]
