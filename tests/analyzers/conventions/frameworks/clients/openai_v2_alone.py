"""The travel agent as a hand-written loop over the openai client, traced by openai-v2 alone.

    python openai_v2_alone.py openai-v2 OTLP_URL OPENAI_URL
No agent or tool span: each model call is a root span of its own trace, and the tools run untraced.
Runs in the main venv (opentelemetry-instrumentation-openai-v2 is a dev dependency).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import otlp
import plans

FUNCTIONS = {f.__name__: f for f in plans.TOOL_FUNCTIONS}
TOOLS = [{"type": "function", "function": {"name": name, "description": f.__doc__.splitlines()[0],
                                           "parameters": plans.TOOL_SCHEMAS[name]}}
         for name, f in FUNCTIONS.items()]


def main(instrumentation: str, otlp_url: str, openai_url: str) -> None:
    if instrumentation != "openai-v2":
        raise SystemExit(f"unknown instrumentation {instrumentation}")
    tracer_provider, roots = otlp.provider(otlp_url, "openai-v2-client")
    import openai
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    OpenAIInstrumentor().instrument(tracer_provider=tracer_provider)
    client = openai.OpenAI(base_url=openai_url, api_key="test", max_retries=0)

    def run_one(plan: int, run: int) -> None:
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
