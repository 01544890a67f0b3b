"""What a chat.completions call answered: the whole response, or the chunks of a stream."""

from __future__ import annotations

from typing import Any

from otel_meta._content import ContentPolicy
from otel_meta._openai._messages import field, int_or_none, output_message, text_or_empty, values_of
from otel_meta._spans import LlmResult


def reasoning_text(message: Any) -> str | None:
    """The reasoning a chat message or delta carries (``reasoning_content`` or ``reasoning``)."""
    values = values_of(message)
    for name in ("reasoning_content", "reasoning"):
        value = values.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _usage(usage: Any) -> tuple[int | None, int | None, int | None]:
    if usage is None:
        return None, None, None
    values = values_of(usage)
    details = values.get("completion_tokens_details")
    reasoning = int_or_none(field(details, "reasoning_tokens")) if details is not None else None
    return int_or_none(values.get("prompt_tokens")), int_or_none(values.get("completion_tokens")), reasoning


def chat_result(response: Any, policy: ContentPolicy) -> LlmResult:
    """The contract's attributes of a ``ChatCompletion`` (fields read directly, nothing dumped)."""
    capture = policy.mode.enabled
    finish: list[str] = []
    names: list[str] = []
    ids: list[str] = []
    chars = 0
    messages: list[dict[str, Any]] = []
    values = values_of(response)
    for choice in values.get("choices") or ():
        choice_values = values_of(choice)
        message = values_of(choice_values.get("message"))
        reason = choice_values.get("finish_reason")
        if isinstance(reason, str):
            finish.append(reason)
        reasoning = reasoning_text(message)
        if reasoning:
            chars += len(reasoning)
        calls: list[tuple[Any, Any, Any]] = []
        for call in message.get("tool_calls") or ():
            call_values = values_of(call)
            function = values_of(call_values.get("function") or call_values.get("custom"))
            name, call_id = function.get("name"), call_values.get("id")
            names.append(text_or_empty(name))
            ids.append(text_or_empty(call_id))
            if capture:
                calls.append((call_id, name, function.get("arguments") or function.get("input")))
        if capture:
            content = message.get("content")
            messages.append(output_message(reasoning, content if isinstance(content, str) else None,
                                           calls, reason if isinstance(reason, str) else None))
    input_tokens, output_tokens, reasoning_tokens = _usage(values.get("usage"))
    model, response_id = values.get("model"), values.get("id")
    return LlmResult(
        response_model=model if isinstance(model, str) else None,
        response_id=response_id if isinstance(response_id, str) else None,
        input_tokens=input_tokens, output_tokens=output_tokens, reasoning_tokens=reasoning_tokens,
        finish_reasons=tuple(finish), tool_calls=tuple(names), tool_call_ids=tuple(ids),
        reasoning_chars=chars,
        output_messages=policy.json(messages) if capture else None,
    )


class _Choice:
    __slots__ = ("calls", "finish", "reasoning", "text")

    def __init__(self) -> None:
        self.finish: str | None = None
        self.reasoning: list[str] = []
        self.text: list[str] = []
        self.calls: dict[int, list[Any]] = {}


class ChatAccumulator:
    """Collects a chat stream's chunks: model, id, usage, per-choice finish reason, reasoning, text and
    tool calls (names and ids always; text and arguments only with capture on)."""

    __slots__ = ("capture", "choices", "model", "reasoning_chars", "response_id", "usage")

    def __init__(self, capture: bool) -> None:
        self.capture = capture
        self.model: str | None = None
        self.response_id: str | None = None
        self.usage: Any = None
        self.choices: dict[int, _Choice] = {}
        self.reasoning_chars = 0

    def add(self, chunk: Any) -> None:
        if self.model is None:
            self.model = field(chunk, "model")
            self.response_id = field(chunk, "id")
        usage = field(chunk, "usage")
        if usage is not None:
            self.usage = usage
        for choice in field(chunk, "choices") or ():
            index = field(choice, "index") or 0
            state = self.choices.get(index)
            if state is None:
                state = self.choices[index] = _Choice()
            reason = field(choice, "finish_reason")
            if isinstance(reason, str):
                state.finish = reason
            delta = field(choice, "delta")
            if delta is None:
                continue
            reasoning = reasoning_text(delta)
            if reasoning:
                self.reasoning_chars += len(reasoning)
                if self.capture:
                    state.reasoning.append(reasoning)
            if self.capture:
                content = field(delta, "content")
                if isinstance(content, str):
                    state.text.append(content)
            for call in field(delta, "tool_calls") or ():
                entry = state.calls.setdefault(field(call, "index") or 0, [None, None, []])
                call_id = field(call, "id")
                if call_id:
                    entry[0] = call_id
                function = field(call, "function")
                if function is not None:
                    name = field(function, "name")
                    if name:
                        entry[1] = name
                    arguments = field(function, "arguments")
                    if self.capture and isinstance(arguments, str):
                        entry[2].append(arguments)

    def result(self, policy: ContentPolicy) -> LlmResult:
        input_tokens, output_tokens, reasoning_tokens = _usage(self.usage)
        names: list[str] = []
        ids: list[str] = []
        messages: list[dict[str, Any]] = []
        for _, state in sorted(self.choices.items()):
            calls = [state.calls[i] for i in sorted(state.calls)]
            names.extend(text_or_empty(c[1]) for c in calls)
            ids.extend(text_or_empty(c[0]) for c in calls)
            if policy.mode.enabled:
                messages.append(output_message(
                    "".join(state.reasoning) or None, "".join(state.text) or None,
                    [(c[0], c[1], "".join(c[2])) for c in calls], state.finish))
        return LlmResult(
            response_model=self.model if isinstance(self.model, str) else None,
            response_id=self.response_id if isinstance(self.response_id, str) else None,
            input_tokens=input_tokens, output_tokens=output_tokens, reasoning_tokens=reasoning_tokens,
            finish_reasons=tuple(s.finish for _, s in sorted(self.choices.items()) if s.finish),
            tool_calls=tuple(names), tool_call_ids=tuple(ids), reasoning_chars=self.reasoning_chars,
            output_messages=policy.json(messages) if policy.mode.enabled else None,
        )
