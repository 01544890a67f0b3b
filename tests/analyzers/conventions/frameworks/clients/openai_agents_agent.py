"""The travel agent on the OpenAI Agents SDK (chat completions model), traced as argv says.

    python openai_agents_agent.py {openinference|genai} OTLP_URL OPENAI_URL
The SDK's own tracing to OpenAI's platform is off; the instrumentation turns its traces into spans.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import otlp
import plans


def main(instrumentation: str, otlp_url: str, openai_url: str) -> None:
    tracer_provider, roots = otlp.provider(otlp_url, "openai-agents-client")
    from agents import set_trace_processors
    set_trace_processors([])  # no export to OpenAI's platform; the instrumentor adds its processor
    if instrumentation == "openinference":
        from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor
        OpenAIAgentsInstrumentor().instrument(tracer_provider=tracer_provider)
    elif instrumentation == "genai":
        from opentelemetry.instrumentation.genai.openai_agents import OpenAIAgentsInstrumentor as GenAI
        GenAI().instrument(tracer_provider=tracer_provider)
        # The official instrumentation leaves model calls to the provider's instrumentation.
        from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor
        OpenAIInstrumentor().instrument(tracer_provider=tracer_provider)
    else:
        raise SystemExit(f"unknown instrumentation {instrumentation}")

    from agents import Agent, OpenAIChatCompletionsModel, Runner, function_tool
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=openai_url, api_key="test", max_retries=0)
    agent = Agent(
        name=plans.AGENT_NAME,
        instructions="Plan trips.",
        model=OpenAIChatCompletionsModel(model="gpt-4o-mini", openai_client=client),
        tools=[function_tool(f) for f in plans.TOOL_FUNCTIONS],
    )

    def run_one(plan: int, run: int) -> None:
        Runner.run_sync(agent, plans.prompt(plan, run))

    plans.run_all(run_one, tracer_provider.shutdown, roots.take)


if __name__ == "__main__":
    main(*sys.argv[1:4])
