"""The travel agent on CrewAI (one agent, one task), traced by openinference-crewai.

    python crewai_agent.py {openinference|openinference+openai} OTLP_URL OPENAI_URL
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("CREWAI_DISABLE_TELEMETRY", "true")
os.environ.setdefault("CREWAI_TRACING_ENABLED", "false")
os.environ.setdefault("OTEL_SDK_DISABLED", "false")

import otlp
import plans


def main(instrumentation: str, otlp_url: str, openai_url: str) -> None:
    if not instrumentation.startswith("openinference"):
        raise SystemExit(f"unknown instrumentation {instrumentation}")
    tracer_provider, roots = otlp.provider(otlp_url, "crewai-client")
    from openinference.instrumentation.crewai import CrewAIInstrumentor
    CrewAIInstrumentor().instrument(tracer_provider=tracer_provider)
    if instrumentation.endswith("+openai"):
        from openinference.instrumentation.openai import OpenAIInstrumentor
        OpenAIInstrumentor().instrument(tracer_provider=tracer_provider)

    from crewai import LLM, Agent, Crew, Task
    from crewai.tools import tool

    llm = LLM(model="openai/gpt-4o-mini", base_url=openai_url, api_key="test", max_retries=0)
    agent = Agent(role=plans.AGENT_NAME, goal="Plan trips.", backstory="A travel agent.", llm=llm,
                  tools=[tool(f.__name__)(f) for f in plans.TOOL_FUNCTIONS], max_iter=6, verbose=False)

    def run_one(plan: int, run: int) -> None:
        task = Task(description=plans.prompt(plan, run), expected_output="A trip plan.", agent=agent)
        Crew(agents=[agent], tasks=[task], verbose=False).kickoff()

    plans.run_all(run_one, tracer_provider.shutdown, roots.take)


if __name__ == "__main__":
    main(*sys.argv[1:4])
