"""The analyzer's REST API: routes served by the same HTTP server as the OTLP receiver."""

from __future__ import annotations

import importlib

from analyzers.api.routing import HttpError, Request, Response, Route, json_response

#: The REST modules; each has ``routes() -> list[Route]``.
_MODULES = (
    "analyzers.api.runs",
    "analyzers.api.patterns",
    "analyzers.api.meta_agent",
    "analyzers.api.assessments",
    "analyzers.api.prompts",
)


def all_routes() -> list[Route]:
    """Every REST route of the service."""
    routes: list[Route] = []
    for name in _MODULES:
        routes.extend(importlib.import_module(name).routes())
    return routes


__all__ = ["HttpError", "Request", "Response", "Route", "all_routes", "json_response"]
