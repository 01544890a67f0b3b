"""The travel agent on LangGraph (``langchain.agents.create_agent``), traced by the instrumentation named in argv.

    python langgraph_agent.py {openinference|openinference+openai|genai|traceloop} OTLP_URL OPENAI_URL
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import otlp
import plans


def main(instrumentation: str, otlp_url: str, openai_url: str) -> None:
    tracer_provider, roots = otlp.provider(otlp_url, "langgraph-client")
    if instrumentation.startswith("openinference"):
        from openinference.instrumentation.langchain import LangChainInstrumentor
        LangChainInstrumentor().instrument(tracer_provider=tracer_provider)
        if instrumentation.endswith("+openai"):
            from openinference.instrumentation.openai import OpenAIInstrumentor
            OpenAIInstrumentor().instrument(tracer_provider=tracer_provider)
    elif instrumentation == "genai":
        from opentelemetry.instrumentation.genai.langchain import LangChainInstrumentor as GenAI
        GenAI().instrument(tracer_provider=tracer_provider)
    elif instrumentation == "traceloop":
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from traceloop.sdk import Traceloop
        from traceloop.sdk.instruments import Instruments
        Traceloop.init(app_name="langgraph-client", exporter=OTLPSpanExporter(endpoint=otlp_url),
                       disable_batch=False, telemetry_enabled=False,
                       instruments={Instruments.OPENAI, Instruments.LANGCHAIN})
        tracer_provider = trace.get_tracer_provider()  # type: ignore[assignment]
        tracer_provider.add_span_processor(roots)  # type: ignore[attr-defined]
    else:
        raise SystemExit(f"unknown instrumentation {instrumentation}")

    from langchain.agents import create_agent
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI

    model = ChatOpenAI(model="gpt-4o-mini", base_url=openai_url, api_key="test", max_retries=0)
    agent = create_agent(model, [tool(f) for f in plans.TOOL_FUNCTIONS], name=plans.AGENT_NAME)

    def run_one(plan: int, run: int) -> None:
        agent.invoke({"messages": [("user", plans.prompt(plan, run))]})

    plans.run_all(run_one, tracer_provider.shutdown, roots.take)


if __name__ == "__main__":
    main(*sys.argv[1:4])
