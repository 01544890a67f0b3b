"""The travel agent on pydantic-ai, traced by its native OpenTelemetry instrumentation.

    python pydantic_ai_agent.py native OTLP_URL OPENAI_URL
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import otlp
import plans


def main(instrumentation: str, otlp_url: str, openai_url: str) -> None:
    if instrumentation != "native":
        raise SystemExit(f"unknown instrumentation {instrumentation}")
    tracer_provider, roots = otlp.provider(otlp_url, "pydantic-ai-client")

    from pydantic_ai import Agent
    from pydantic_ai.models.instrumented import InstrumentationSettings
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    model = OpenAIChatModel("gpt-4o-mini", provider=OpenAIProvider(base_url=openai_url, api_key="test"))
    Agent.instrument_all(InstrumentationSettings(tracer_provider=tracer_provider))
    agent = Agent(model, name=plans.AGENT_NAME, tools=list(plans.TOOL_FUNCTIONS))

    def run_one(plan: int, run: int) -> None:
        agent.run_sync(plans.prompt(plan, run))

    plans.run_all(run_one, tracer_provider.shutdown, roots.take)


if __name__ == "__main__":
    main(*sys.argv[1:4])
