"""The travel agent on LlamaIndex (``FunctionAgent``), traced by the instrumentation named in argv.

    python llama_index_agent.py {openinference|genai} OTLP_URL OPENAI_URL
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import otlp
import plans


def main(instrumentation: str, otlp_url: str, openai_url: str) -> None:
    tracer_provider, roots = otlp.provider(otlp_url, "llama-index-client")
    if instrumentation == "openinference":
        from openinference.instrumentation.llama_index import LlamaIndexInstrumentor
        LlamaIndexInstrumentor().instrument(tracer_provider=tracer_provider)
    elif instrumentation == "genai":
        from opentelemetry.instrumentation.genai.llama_index import LlamaIndexInstrumentor as GenAI
        GenAI().instrument(tracer_provider=tracer_provider)
        # The official instrumentation leaves model calls to the provider's instrumentation.
        from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor
        OpenAIInstrumentor().instrument(tracer_provider=tracer_provider)
    else:
        raise SystemExit(f"unknown instrumentation {instrumentation}")

    from llama_index.core.agent.workflow import FunctionAgent
    from llama_index.core.tools import FunctionTool
    from llama_index.llms.openai import OpenAI

    llm = OpenAI(model="gpt-4o-mini", api_base=openai_url, api_key="test", max_retries=0)
    agent = FunctionAgent(name=plans.AGENT_NAME, description="Plans trips.", llm=llm,
                          tools=[FunctionTool.from_defaults(f) for f in plans.TOOL_FUNCTIONS])

    def run_one(plan: int, run: int) -> None:
        async def go() -> None:
            await agent.run(user_msg=plans.prompt(plan, run))
        asyncio.run(go())

    plans.run_all(run_one, tracer_provider.shutdown, roots.take)


if __name__ == "__main__":
    main(*sys.argv[1:4])
