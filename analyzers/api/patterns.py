"""REST route for mined patterns.

- ``GET /api/patterns?agent=&min_confidence=``: mines the store's runs now and returns the patterns
  as a JSON list of ``Pattern.to_json()`` plus ``finding`` (the id of the finding's lead pattern; the
  ``otel-meta patterns --json`` shape), one finding after another (``analyzers.mining.group_findings``:
  most confident first, then by effect); task-confounded patterns are included with that label;
  404 for an agent without runs, 400 for a bad ``min_confidence``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from analyzers.api.routing import HttpError, Request, Response, Route, json_response
from analyzers.errors import UnknownAgentError

if TYPE_CHECKING:
    from analyzers.api.context import ServiceContext


def _min_confidence(request: Request) -> float:
    raw = request.query_value("min_confidence") or request.query_value("minConfidence")
    if raw is None:
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        raise HttpError(400, f"min_confidence must be a number in [0, 1], not {raw!r}") from None
    if not 0.0 <= value <= 1.0:
        raise HttpError(400, f"min_confidence must be in [0, 1], not {value}")
    return value


def list_patterns(request: Request, context: ServiceContext) -> Response:
    from analyzers.mining import group_findings, mine_store

    agent = request.query_value("agent")
    min_confidence = _min_confidence(request)
    try:
        patterns = mine_store(context.store, agent, min_confidence=min_confidence)
    except UnknownAgentError as exc:
        raise HttpError(404, str(exc)) from None
    return json_response([dict(p.to_json(), finding=f.lead.id) for f in group_findings(patterns) for p in f.patterns])


def routes() -> list[Route]:
    return [Route("GET", "/api/patterns", list_patterns)]
