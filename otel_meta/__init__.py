"""otel-meta instrumentation: LLM calls, tool calls and thinking steps as OpenTelemetry spans.

``import otel_meta.auto`` (or ``otel_meta.instrument()``) turns it on; hand-written agents add
``@otel_meta.agent``, ``@otel_meta.tool``, ``otel_meta.thinking`` and ``otel_meta.set_outcome``.
Importing this package configures nothing and imports no OpenTelemetry module until a name is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from otel_meta._decorators import agent, set_outcome, thinking, tool
    from otel_meta._problem import AgentType, ProblemContext
    from otel_meta._prompts import PromptRollout, PromptVersion, load_prompt
    from otel_meta._recorder import add_thinking_step, add_tool_call, collect_agent_trace, end_agent_trace
    from otel_meta._setup import instrument, uninstrument

__all__ = [
    "AgentType",
    "ProblemContext",
    "PromptRollout",
    "PromptVersion",
    "add_thinking_step",
    "add_tool_call",
    "agent",
    "collect_agent_trace",
    "end_agent_trace",
    "instrument",
    "load_prompt",
    "set_outcome",
    "thinking",
    "tool",
    "uninstrument",
]

_EXPORTS = {
    "AgentType": "otel_meta._problem",
    "ProblemContext": "otel_meta._problem",
    "PromptRollout": "otel_meta._prompts",
    "PromptVersion": "otel_meta._prompts",
    "add_thinking_step": "otel_meta._recorder",
    "add_tool_call": "otel_meta._recorder",
    "agent": "otel_meta._decorators",
    "collect_agent_trace": "otel_meta._recorder",
    "end_agent_trace": "otel_meta._recorder",
    "instrument": "otel_meta._setup",
    "load_prompt": "otel_meta._prompts",
    "set_outcome": "otel_meta._decorators",
    "thinking": "otel_meta._decorators",
    "tool": "otel_meta._decorators",
    "uninstrument": "otel_meta._setup",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'otel_meta' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
