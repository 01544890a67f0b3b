"""A small agent instrumented with traceloop-sdk (OpenLLMetry). Runs in its own virtualenv.

    python traceloop_agent.py OTLP_TRACES_URL OPENAI_BASE_URL
Agent/tool/task spans come from Traceloop's decorators, the LLM spans from its OpenAI instrumentation.
Prints the trace id.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TRACELOOP_TELEMETRY", "false")
os.environ.setdefault("TRACELOOP_TRACE_CONTENT", "false")

import openai
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from traceloop.sdk import Traceloop
from traceloop.sdk.decorators import agent, task, tool
from traceloop.sdk.instruments import Instruments


def main(otlp_url: str, openai_url: str) -> None:
    Traceloop.init(app_name="traceloop-client", exporter=OTLPSpanExporter(endpoint=otlp_url),
                   disable_batch=True, instruments={Instruments.OPENAI}, telemetry_enabled=False)
    client = openai.OpenAI(base_url=openai_url, api_key="test", max_retries=0)

    @tool(name="lookup_order")
    def lookup_order(order_id: str) -> str:
        return "shipped"

    @tool(name="refund")
    def refund(order_id: str) -> str:
        raise PermissionError("refunds need approval")

    @task(name="summarize")
    def summarize() -> None:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "sum up"}])

    @agent(name="support")
    def support() -> str:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "order?"}])
        lookup_order("42")
        try:
            refund("42")
        except PermissionError:
            pass
        summarize()
        return format(trace.get_current_span().get_span_context().trace_id, "032x")

    trace_id = support()
    trace.get_tracer_provider().force_flush()
    print(trace_id)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
