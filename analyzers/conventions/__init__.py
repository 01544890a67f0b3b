"""Turn a trace's spans into a ``Run``, whichever GenAI instrumentation produced them.

Understood: otel-meta's own spans and the OpenTelemetry GenAI conventions (``invoke_agent``,
``execute_tool``, ``think``/``plan``, ``chat``; e.g. ``opentelemetry-instrumentation-openai-v2``),
OpenInference (``openinference.span.kind`` AGENT/TOOL/LLM/CHAIN) and OpenLLMetry
(``traceloop.span.kind`` workflow/agent/tool/task). See ``docs/ingest.md``.
"""

from __future__ import annotations

from analyzers.conventions._assemble import assemble_run
from analyzers.conventions._outcome import DEFAULT_OUTCOME_RULE, OutcomeRule

__all__ = ["DEFAULT_OUTCOME_RULE", "OutcomeRule", "assemble_run"]
