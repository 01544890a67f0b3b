"""The travel agent on smolagents (``ToolCallingAgent``), traced by openinference-smolagents.

    python smolagents_agent.py openinference OTLP_URL OPENAI_URL

openinference-instrumentation-smolagents 0.1.43 neither ends a run's agent span nor detaches its
context when the run raises, so every later run in the thread would join that trace; each run is
therefore played in a context of its own (``contextvars.copy_context().run``), as the README advises.
"""

from __future__ import annotations

import contextvars
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import otlp
import plans


def main(instrumentation: str, otlp_url: str, openai_url: str) -> None:
    if instrumentation != "openinference":
        raise SystemExit(f"unknown instrumentation {instrumentation}")
    tracer_provider, roots = otlp.provider(otlp_url, "smolagents-client")
    from openinference.instrumentation.smolagents import SmolagentsInstrumentor
    SmolagentsInstrumentor().instrument(tracer_provider=tracer_provider)

    from smolagents import OpenAIServerModel, ToolCallingAgent, tool

    model = OpenAIServerModel(model_id="gpt-4o-mini", api_base=openai_url, api_key="test",
                              client_kwargs={"max_retries": 0})
    tools = [tool(f) for f in plans.TOOL_FUNCTIONS]
    agent = ToolCallingAgent(tools=tools, model=model, name=plans.AGENT_NAME, max_steps=6, verbosity_level=0)

    def run_one(plan: int, run: int) -> None:
        contextvars.copy_context().run(agent.run, plans.prompt(plan, run))

    plans.run_all(run_one, tracer_provider.shutdown, roots.take)


if __name__ == "__main__":
    main(*sys.argv[1:4])
