"""What a responses.create call answered: the ``Response``, or the events of a stream."""

from __future__ import annotations

from typing import Any

from otel_meta._content import ContentPolicy
from otel_meta._openai._messages import field, int_or_none, output_message, text_or_empty
from otel_meta._spans import LlmResult

_FINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


def _reasoning_of(item: Any) -> str:
    texts = [field(part, "text") for part in (field(item, "summary") or ())]
    texts += [field(part, "text") for part in (field(item, "content") or ())]
    return "\n".join(t for t in texts if isinstance(t, str) and t)


def _finish_reason(response: Any, has_calls: bool) -> str | None:
    status = field(response, "status")
    if status == "completed":
        return "tool_calls" if has_calls else "stop"
    if status == "incomplete":
        reason = field(field(response, "incomplete_details"), "reason")
        return "length" if reason == "max_output_tokens" else (reason or "incomplete")
    return status if isinstance(status, str) else None


def items_result(response: Any, items: Any, policy: ContentPolicy) -> LlmResult:
    """The contract's attributes from a response (may be ``None``) and its output items."""
    names: list[str] = []
    ids: list[str] = []
    calls: list[tuple[Any, Any, Any]] = []
    reasoning: list[str] = []
    text: list[str] = []
    for item in items or ():
        kind = field(item, "type")
        if kind == "reasoning":
            reasoning.append(_reasoning_of(item))
        elif kind in ("function_call", "custom_tool_call"):
            name, call_id = field(item, "name"), field(item, "call_id")
            names.append(text_or_empty(name))
            ids.append(text_or_empty(call_id))
            calls.append((call_id, name, field(item, "arguments") or field(item, "input")))
        elif kind == "message" and policy.mode.enabled:
            for part in field(item, "content") or ():
                value = field(part, "text") or field(part, "refusal")
                if isinstance(value, str):
                    text.append(value)
    joined_reasoning = "\n".join(r for r in reasoning if r)
    usage = field(response, "usage") if response is not None else None
    details = field(usage, "output_tokens_details") if usage is not None else None
    finish = _finish_reason(response, bool(calls)) if response is not None else None
    model, response_id = field(response, "model"), field(response, "id")
    output = None
    if policy.mode.enabled:
        output = policy.json([output_message(joined_reasoning or None, "".join(text) or None, calls, finish)])
    return LlmResult(
        response_model=model if isinstance(model, str) else None,
        response_id=response_id if isinstance(response_id, str) else None,
        input_tokens=int_or_none(field(usage, "input_tokens")) if usage is not None else None,
        output_tokens=int_or_none(field(usage, "output_tokens")) if usage is not None else None,
        reasoning_tokens=int_or_none(field(details, "reasoning_tokens")) if details is not None else None,
        finish_reasons=(finish,) if finish else (),
        tool_calls=tuple(names), tool_call_ids=tuple(ids),
        reasoning_chars=len(joined_reasoning), output_messages=output,
    )


def response_result(response: Any, policy: ContentPolicy) -> LlmResult:
    """The contract's attributes of a ``Response``."""
    return items_result(response, field(response, "output"), policy)


class ResponsesAccumulator:
    """Collects a Responses stream: the final response when it arrives, else the finished items."""

    __slots__ = ("final", "items", "response")

    def __init__(self, capture: bool) -> None:
        self.response: Any = None
        self.items: list[Any] = []
        self.final = False

    def add(self, event: Any) -> None:
        kind = field(event, "type")
        if kind in _FINAL_EVENTS:
            self.response = field(event, "response")
            self.final = True
        elif kind == "response.created" and self.response is None:
            self.response = field(event, "response")
        elif kind == "response.output_item.done":
            self.items.append(field(event, "item"))

    def result(self, policy: ContentPolicy) -> LlmResult:
        if self.final:
            return response_result(self.response, policy)
        return items_result(self.response, self.items, policy)
