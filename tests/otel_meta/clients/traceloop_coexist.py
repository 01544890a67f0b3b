"""Run by .venv-traceloop's python: otel-meta next to traceloop's openai instrumentor.

``python traceloop_coexist.py ORDER`` (``otel-meta-first`` or ``traceloop-first``) instruments both on one
provider in that order, makes a plain and a streamed chat call to the loopback stand-in, and prints the
finished spans as JSON: ``[{"scope", "name", "attributes"}]``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

import openai
from opentelemetry.instrumentation.openai import OpenAIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_meta
from tests.support.openai_server import (
    JsonReply,
    OpenAIStandIn,
    SseReply,
    chat_completion,
    chat_stream_events,
)

TOOL_CALLS = [("call_1", "get_pods", "{}")]
MESSAGES = [{"role": "user", "content": "Why is checkout slow?"}]


def main(order: str) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    steps = [lambda: otel_meta.instrument(tracer_provider=provider),
             lambda: OpenAIInstrumentor().instrument(tracer_provider=provider)]
    for step in steps if order == "otel-meta-first" else reversed(steps):
        step()
    with OpenAIStandIn() as server:
        server.enqueue(JsonReply(chat_completion("checking", tool_calls=TOOL_CALLS)),
                       SseReply(chat_stream_events("checking", tool_calls=TOOL_CALLS)))
        with openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0) as client:
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
            for _ in client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True,
                                                    stream_options={"include_usage": True}):
                pass
    print(json.dumps([{"scope": s.instrumentation_scope.name, "name": s.name,
                       "attributes": {k: list(v) if isinstance(v, tuple) else v for k, v in s.attributes.items()}}
                      for s in exporter.get_finished_spans()]))


if __name__ == "__main__":
    main(sys.argv[1])
