"""The travel agent as a hand-written loop over the openai client, traced by openai-v2 alone.

    python openai_v2_alone.py openai-v2[+conversation] OTLP_URL OPENAI_URL
No agent or tool span: each model call is a root span of its own trace, and the tools run untraced.
Runs in the main venv (opentelemetry-instrumentation-openai-v2 is a dev dependency).

openai-v2 (2.4b0) sets no ``gen_ai.conversation.id`` on its chat spans; with ``+conversation`` each run
puts one in the W3C baggage and a span processor copies it onto every span started in that context,
as ``opentelemetry-processor-baggage``'s ``BaggageSpanProcessor`` does (not a dependency here, so the
few lines it takes are below).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import otlp
import plans
from opentelemetry import baggage, context
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

FUNCTIONS = {f.__name__: f for f in plans.TOOL_FUNCTIONS}
TOOLS = [{"type": "function", "function": {"name": name, "description": f.__doc__.splitlines()[0],
                                           "parameters": plans.TOOL_SCHEMAS[name]}}
         for name, f in FUNCTIONS.items()]


CONVERSATION_ID = "gen_ai.conversation.id"


class ConversationFromBaggage(SpanProcessor):
    """Copies the baggage entry ``gen_ai.conversation.id`` onto each span as it starts."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        value = baggage.get_baggage(CONVERSATION_ID, parent_context)
        if isinstance(value, str) and value:
            span.set_attribute(CONVERSATION_ID, value)

    def on_end(self, span: ReadableSpan) -> None:
        return


def conversation_id(plan: int, run: int) -> str:
    return f"travel-{plan:02d}-{run}"


def main(instrumentation: str, otlp_url: str, openai_url: str) -> None:
    if instrumentation not in ("openai-v2", "openai-v2+conversation"):
        raise SystemExit(f"unknown instrumentation {instrumentation}")
    tracer_provider, roots = otlp.provider(otlp_url, "openai-v2-client")
    if instrumentation.endswith("+conversation"):
        tracer_provider.add_span_processor(ConversationFromBaggage())
    import openai
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    OpenAIInstrumentor().instrument(tracer_provider=tracer_provider)
    client = openai.OpenAI(base_url=openai_url, api_key="test", max_retries=0)

    def run_one(plan: int, run: int) -> None:
        if not instrumentation.endswith("+conversation"):
            return loop(plan, run)
        token = context.attach(baggage.set_baggage(CONVERSATION_ID, conversation_id(plan, run)))
        try:
            return loop(plan, run)
        finally:
            context.detach(token)

    def loop(plan: int, run: int) -> None:
        messages: list = [{"role": "user", "content": plans.prompt(plan, run)}]
        for _ in range(6):
            message = client.chat.completions.create(model="gpt-4o-mini", messages=messages,
                                                     tools=TOOLS).choices[0].message
            if not message.tool_calls:
                return
            messages.append(message.model_dump(exclude_none=True))
            for call in message.tool_calls:
                try:
                    result = FUNCTIONS[call.function.name](**json.loads(call.function.arguments))
                except Exception as exc:  # noqa: BLE001 - the model sees the error, as hand-written loops do
                    result = f"error: {exc}"
                messages.append({"role": "tool", "tool_call_id": call.id, "content": result})

    plans.run_all(run_one, tracer_provider.shutdown, roots.take)


if __name__ == "__main__":
    main(*sys.argv[1:4])
