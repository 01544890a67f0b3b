"""A small agent instrumented with opentelemetry-instrumentation-openai-v2 (GenAI conventions).

Run in its own process (the instrumentation patches ``openai`` globally):
    python openai_v2_agent.py OTLP_TRACES_URL OPENAI_BASE_URL
Agent and tool spans follow the GenAI conventions by hand, as an openai-v2 user writes them; the chat
spans come from the instrumentation. Prints the trace id.
"""

from __future__ import annotations

import sys

import openai
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor


def main(otlp_url: str, openai_url: str) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "openai-v2-client"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=otlp_url)))
    OpenAIInstrumentor().instrument(tracer_provider=provider)
    tracer = provider.get_tracer("weather-agent")
    client = openai.OpenAI(base_url=openai_url, api_key="test", max_retries=0)
    with tracer.start_as_current_span("invoke_agent weather", attributes={
        "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "weather"}) as agent:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "weather?"}])
        with tracer.start_as_current_span("execute_tool get_weather", attributes={
            "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather"}):
            pass
        try:
            with tracer.start_as_current_span("execute_tool get_forecast", attributes={
                "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_forecast"}) as tool:
                tool.set_attribute("error.type", "ForecastUnavailable")
                raise RuntimeError("no forecast")
        except RuntimeError:
            pass
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "sum up"}])
    provider.shutdown()
    print(format(agent.get_span_context().trace_id, "032x"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
