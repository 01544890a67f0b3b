"""Turn a trace's spans into a ``Run``, whichever GenAI instrumentation produced them.

Understood: otel-meta's own spans and the OpenTelemetry GenAI conventions (``invoke_agent``,
``invoke_workflow``, ``execute_tool``, ``think``/``plan``, ``chat``; the official
``opentelemetry-instrumentation-genai-*`` and openai-v2, pydantic-ai, Google ADK), OpenInference
(``openinference.span.kind`` AGENT/TOOL/LLM/CHAIN) and OpenLLMetry (``traceloop.span.kind``), and the
agent frameworks on top of them. See ``docs/ingest.md`` ("Runs from any GenAI instrumentation"); agent-less
traces that share a ``gen_ai.conversation.id`` make one run (``docs/conventions.md``).
"""

from __future__ import annotations

from analyzers.conventions._assemble import assemble_conversation, assemble_run, conversation_of
from analyzers.conventions._outcome import DEFAULT_OUTCOME_RULE, OutcomeRule, configured_rule

__all__ = ["DEFAULT_OUTCOME_RULE", "OutcomeRule", "assemble_conversation", "assemble_run", "configured_rule",
           "conversation_of"]
