"""The seed's meta-agent route: ``POST /api/agents/meta-agent`` and ``GET /api/agents/meta-agent``.

``POST`` takes ``{context, requestContext: {requestId, userQuery?, agentChain?}, agentId?}``, judges
``context`` with the service's judge, stores the verdict (upsert by request id) and answers with the
seed's ``MetaAgentOutput`` JSON (``Assessment.to_json()``). A storage failure is logged and does not
fail the request (as in the seed). ``GET ?requestId=`` returns the stored verdict or 404; ``GET``
without it returns the judge's configuration (never its API key).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from analyzers.api.routing import HttpError, Request, Response, Route, json_response
from analyzers.assessor import AGENT_NAME, JudgeConfig, assess
from analyzers.errors import JudgeError

if TYPE_CHECKING:
    from analyzers.api.context import ServiceContext

logger = logging.getLogger(__name__)


def judge_of(ctx: ServiceContext) -> JudgeConfig:
    """The service's judge configuration (the heuristic judge when none is set)."""
    return ctx.judge if isinstance(ctx.judge, JudgeConfig) else JudgeConfig()


def _post(req: Request, ctx: ServiceContext) -> Response:
    body = req.json()
    if not isinstance(body, Mapping):
        raise HttpError(400, "context (object) is required")
    context = body.get("context")
    if not isinstance(context, Mapping):
        raise HttpError(400, "context (object) is required")
    request_context = body.get("requestContext")
    request_id = request_context.get("requestId") if isinstance(request_context, Mapping) else None
    if not isinstance(request_id, str) or not request_id.strip():
        raise HttpError(400, "requestContext with requestId is required")
    agent_id = body.get("agentId")
    if agent_id not in (None, AGENT_NAME):
        raise HttpError(404, f"Agent {agent_id!r} not found: this service runs only {AGENT_NAME!r}")
    assert isinstance(request_context, Mapping)
    try:
        result = assess(context, request_id=request_id, judge=judge_of(ctx), request_context=request_context)
    except JudgeError as exc:
        raise HttpError(502, str(exc)) from exc
    try:
        ctx.store.save_assessment(result)
    except Exception as exc:  # noqa: BLE001 - as the seed does: log it, and still answer with the verdict
        logger.error("could not store the assessment of request %s: %s", request_id, exc)
    return json_response(result.to_json())


def _get(req: Request, ctx: ServiceContext) -> Response:
    request_id = req.query_value("requestId")
    if request_id:
        found = ctx.store.get_assessment(request_id, AGENT_NAME)
        if found is None:
            raise HttpError(404, "Meta output not found for this request")
        return json_response(found.to_json())
    judge = judge_of(ctx)
    return json_response({
        "config": {
            "agentName": AGENT_NAME,
            "mode": "llm" if judge.uses_llm else "heuristic",
            "model": judge.model,
            "baseUrl": judge.base_url,
            "temperature": judge.temperature,
            "maxTokens": judge.max_tokens,
            "replanThreshold": judge.replan_threshold,
            "deepenThreshold": judge.deepen_threshold,
            "onError": judge.on_error,
        }
    })


def routes() -> list[Route]:
    return [
        Route("POST", "/api/agents/meta-agent", _post),
        Route("GET", "/api/agents/meta-agent", _get),
    ]
