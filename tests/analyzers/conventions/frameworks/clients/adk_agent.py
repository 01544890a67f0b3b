"""The travel agent on Google ADK (``LlmAgent`` through LiteLLM), traced by ADK's own OpenTelemetry.

    python adk_agent.py native OTLP_URL OPENAI_URL
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# LiteLLM would fetch its model price list from the internet at import.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import otlp
import plans


def main(instrumentation: str, otlp_url: str, openai_url: str) -> None:
    if instrumentation != "native":
        raise SystemExit(f"unknown instrumentation {instrumentation}")
    tracer_provider, roots = otlp.provider(otlp_url, "adk-client")
    from opentelemetry import trace
    trace.set_tracer_provider(tracer_provider)  # ADK traces through the global provider

    from google.adk.agents import LlmAgent
    from google.adk.models.lite_llm import LiteLlm
    from google.adk.runners import InMemoryRunner
    from google.genai import types

    model = LiteLlm(model="openai/gpt-4o-mini", api_base=openai_url, api_key="test")
    agent = LlmAgent(name=plans.AGENT_NAME, model=model, instruction="Plan trips.",
                     tools=list(plans.TOOL_FUNCTIONS))
    runner = InMemoryRunner(agent=agent, app_name="travel")

    async def go(prompt: str) -> None:
        session = await runner.session_service.create_session(app_name="travel", user_id="u")
        message = types.Content(role="user", parts=[types.Part(text=prompt)])
        async for _ in runner.run_async(user_id="u", session_id=session.id, new_message=message):
            pass

    def run_one(plan: int, run: int) -> None:
        asyncio.run(go(plans.prompt(plan, run)))

    plans.run_all(run_one, tracer_provider.shutdown, roots.take)


if __name__ == "__main__":
    main(*sys.argv[1:4])
