"""REST routes for the prompts repo: agents, current prompt, history, and comparison per version.

- ``GET /api/prompts``: ``[{agent, version, guidelines, commit}]`` for each agent file on the branch;
- ``GET /api/prompts/{agent}``: the current file and its rendered ``text``;
- ``GET /api/prompts/{agent}/history``: the ``otel-meta history --json`` list, oldest first;
- ``GET /api/prompts/{agent}/compare``: the ``otel-meta compare --json`` object (from the store).

404 when the service has no prompts repo (``ServiceContext.prompts_repo``) or the agent has no file;
400 for a malformed agent name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from analyzers.api.routing import HttpError, Request, Response, Route, json_response
from analyzers.errors import InvalidAgentNameError, PromptsRepoError, UnknownAgentError
from analyzers.guidelines import PromptsRepo, compare_versions, prompt_history, validate_agent_name

if TYPE_CHECKING:
    from analyzers.api.context import ServiceContext


def _repo(context: ServiceContext) -> PromptsRepo:
    if context.prompts_repo is None:
        raise HttpError(404, "this service has no prompts repo configured")
    try:
        return PromptsRepo(context.prompts_repo)
    except PromptsRepoError as exc:
        raise HttpError(404, str(exc)) from None


def _agent(request: Request) -> str:
    try:
        return validate_agent_name(request.params["agent"])
    except InvalidAgentNameError as exc:
        raise HttpError(400, str(exc)) from None


def list_prompts(request: Request, context: ServiceContext) -> Response:
    repo = _repo(context)
    head = repo.head()
    files = [repo.require(agent, head) for agent in repo.agents(head)]
    return json_response(
        [
            {"agent": f.agent, "version": f.version, "guidelines": len(f.guidelines), "commit": head}
            for f in files
        ]
    )


def get_prompt(request: Request, context: ServiceContext) -> Response:
    repo, agent = _repo(context), _agent(request)
    head = repo.head()
    try:
        prompt_file = repo.require(agent, head)
    except UnknownAgentError as exc:
        raise HttpError(404, str(exc)) from None
    return json_response(
        {
            "agent": agent,
            "version": prompt_file.version,
            "commit": head,
            "base_prompt": prompt_file.base_prompt,
            "guidelines": [g.to_yaml() for g in prompt_file.guidelines],
            "text": prompt_file.render(),
        }
    )


def get_history(request: Request, context: ServiceContext) -> Response:
    repo, agent = _repo(context), _agent(request)
    try:
        entries = prompt_history(repo, agent)
    except UnknownAgentError as exc:
        raise HttpError(404, str(exc)) from None
    return json_response([e.to_json() for e in entries])


def get_comparison(request: Request, context: ServiceContext) -> Response:
    agent = _agent(request)
    return json_response(compare_versions(context.store.iter_runs(agent), agent).to_json())


def routes() -> list[Route]:
    return [
        Route("GET", "/api/prompts", list_prompts),
        Route("GET", "/api/prompts/{agent}", get_prompt),
        Route("GET", "/api/prompts/{agent}/history", get_history),
        Route("GET", "/api/prompts/{agent}/compare", get_comparison),
    ]
