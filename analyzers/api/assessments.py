"""Stored assessments: ``GET /api/assessments`` and ``POST /api/runs/{trace_id}/assess``.

``GET /api/assessments`` filters on ``minReasoningQuality``, ``maxReasoningQuality`` (numbers in
[0, 1]), ``shouldReplan``, ``shouldDeepenReasoning`` (``true``/``false``), ``startDate`` and
``endDate`` (ISO 8601, inclusive) and returns a JSON list, newest first. ``POST
/api/runs/{trace_id}/assess`` judges a stored run (its steps and filtered thinking text) and stores
the verdict; the optional body ``{requestId?, requestContext?}`` names the request (default: the
run's request id, else its trace id).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from analyzers.api.meta_agent import judge_of
from analyzers.api.routing import HttpError, Request, Response, Route, json_response
from analyzers.assessor import assess
from analyzers.errors import JudgeError, UnknownRunError

if TYPE_CHECKING:
    from analyzers.api.context import ServiceContext

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def _number(req: Request, name: str) -> float | None:
    raw = req.query_value(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise HttpError(400, f"{name} must be a number between 0 and 1, got {raw!r}") from None
    if not 0.0 <= value <= 1.0:
        raise HttpError(400, f"{name} must be a number between 0 and 1, got {raw!r}")
    return value


def _flag(req: Request, name: str) -> bool | None:
    raw = req.query_value(name)
    if raw is None:
        return None
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise HttpError(400, f"{name} must be true or false, got {raw!r}")


def _date(req: Request, name: str) -> str | None:
    raw = req.query_value(name)
    if raw is None:
        return None
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise HttpError(400, f"{name} must be an ISO 8601 date or time, got {raw!r}") from None
    if not 1970 <= when.year <= 2261:
        raise HttpError(400, f"{name} must be between the years 1970 and 2261, got {raw!r}")
    return raw


def _list(req: Request, ctx: ServiceContext) -> Response:
    found = ctx.store.list_assessments(
        min_quality=_number(req, "minReasoningQuality"),
        max_quality=_number(req, "maxReasoningQuality"),
        should_replan=_flag(req, "shouldReplan"),
        should_deepen=_flag(req, "shouldDeepenReasoning"),
        start=_date(req, "startDate"),
        end=_date(req, "endDate"),
    )
    return json_response([a.to_json() for a in found])


def _assess_run(req: Request, ctx: ServiceContext) -> Response:
    body = req.json() if req.body else {}
    if not isinstance(body, Mapping):
        raise HttpError(400, "the body, when given, must be a JSON object {requestId?, requestContext?}")
    request_context = body.get("requestContext")
    if request_context is not None and not isinstance(request_context, Mapping):
        raise HttpError(400, "requestContext must be an object")
    request_id = body.get("requestId") or (request_context or {}).get("requestId")
    try:
        result = assess(
            trace_id=req.params["trace_id"],
            store=ctx.store,
            judge=judge_of(ctx),
            request_id=str(request_id) if request_id else None,
            request_context=request_context,
        )
    except UnknownRunError as exc:
        raise HttpError(404, str(exc)) from exc
    except JudgeError as exc:
        raise HttpError(502, str(exc)) from exc
    return json_response(result.to_json())


def routes() -> list[Route]:
    return [
        Route("GET", "/api/assessments", _list),
        Route("POST", "/api/runs/{trace_id}/assess", _assess_run),
    ]
