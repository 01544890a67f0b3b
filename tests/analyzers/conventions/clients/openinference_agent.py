"""A small agent instrumented with openinference-instrumentation-openai (OpenInference attributes).

    python openinference_agent.py OTLP_TRACES_URL OPENAI_BASE_URL
The AGENT and TOOL spans come from OpenInference's own tracer decorators; the LLM spans from the
instrumentation. Prints the trace id.
"""

from __future__ import annotations

import sys

import openai
from openinference.instrumentation import TracerProvider
from openinference.instrumentation.openai import OpenAIInstrumentor
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import SimpleSpanProcessor


def main(otlp_url: str, openai_url: str) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "openinference-client"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=otlp_url)))
    OpenAIInstrumentor().instrument(tracer_provider=provider)
    tracer = provider.get_tracer("research-agent")
    client = openai.OpenAI(base_url=openai_url, api_key="test", max_retries=0)

    @tracer.tool(name="search_docs")
    def search_docs(query: str) -> str:
        return "found"

    @tracer.tool(name="fetch_page")
    def fetch_page(url: str) -> str:
        raise ConnectionError("page unreachable")

    @tracer.agent(name="researcher")
    def research(question: str) -> str:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": question}])
        search_docs(question)
        try:
            fetch_page("http://example.invalid")
        except ConnectionError:
            pass
        return format(trace.get_current_span().get_span_context().trace_id, "032x")

    trace_id = research("what is otlp?")
    provider.shutdown()
    print(trace_id)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
