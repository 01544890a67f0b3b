"""The loopback model that plays the plans back, for any framework's OpenAI client.

It answers ``POST /v1/chat/completions`` by the ``[plan NN run R]`` tag in the request: the run's next
turn of tool calls, then the final text (through the ``final_answer`` tool when the request offers one,
as smolagents' tool-calling agent needs), or HTTP 400 for the last request of an ``ERROR_PLANS`` plan.
It counts each run's requests: the LLM steps its run should have.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

from tests.analyzers.conventions.frameworks import plans
from tests.support.openai_server import (
    JsonReply,
    RecordedRequest,
    Reply,
    SseReply,
    chat_completion,
    chat_stream_events,
)

MODEL = "gpt-4o-mini-2024-07-18"


class ScriptedModel:
    """``OpenAIStandIn.responder``: answers each request with its run's next turn."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.untagged = 0
        self._lock = threading.Lock()

    def __call__(self, request: RecordedRequest) -> Reply:
        text = json.dumps(request.body)
        match = plans.TAG.search(text)
        if match is None:
            with self._lock:
                self.untagged += 1
            return JsonReply(chat_completion(content=plans.FINAL_TEXT, model=MODEL))
        plan, key = int(match.group(1)), f"{match.group(1)}-{match.group(2)}"
        with self._lock:
            turn = self.requests[key]
            self.requests[key] += 1
        turns = plans.PLANS[plan]
        if turn < len(turns):
            calls = [(f"call_{key}_{turn}_{i}", name, json.dumps(args))
                     for i, (name, args) in enumerate(turns[turn])]
            return _answer(request.body, None, calls)
        if plan in plans.ERROR_PLANS:
            return JsonReply({"error": {"message": "scripted failure", "type": "invalid_request_error",
                                        "code": "scripted"}}, status=400)
        if _offers(request.body, "final_answer"):
            return _answer(request.body, None, [(f"call_{key}_final", "final_answer",
                                                 json.dumps({"answer": plans.FINAL_TEXT}))])
        return _answer(request.body, plans.FINAL_TEXT, None)


def _answer(body: Any, content: str | None, calls: list[tuple[str, str, str]] | None) -> Reply:
    """A chat completion, streamed when the request asks for a stream."""
    if isinstance(body, dict) and body.get("stream"):
        return SseReply(chat_stream_events(content or "", model=MODEL, tool_calls=calls))
    return JsonReply(chat_completion(content=content, tool_calls=calls, model=MODEL))


def _offers(body: Any, tool: str) -> bool:
    tools = body.get("tools") if isinstance(body, dict) else None
    return any(isinstance(t, dict) and (t.get("function") or {}).get("name") == tool for t in tools or ())
