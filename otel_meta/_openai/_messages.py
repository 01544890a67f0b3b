"""Request attributes and captured messages in the GenAI conventions' shape.

Messages are ``[{"role": ..., "parts": [{"type": "text", "content": ...}, ...]}]``; only built when
content capture is on. Every accessor tolerates dicts and openai's pydantic objects alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from otel_meta import semconv as sc

#: create() keyword -> request attribute, for the numeric request parameters.
_NUMERIC_REQUEST = {
    "temperature": sc.GEN_AI_REQUEST_TEMPERATURE,
    "top_p": sc.GEN_AI_REQUEST_TOP_P,
    "max_tokens": sc.GEN_AI_REQUEST_MAX_TOKENS,
    "max_completion_tokens": sc.GEN_AI_REQUEST_MAX_TOKENS,
    "max_output_tokens": sc.GEN_AI_REQUEST_MAX_TOKENS,
    "seed": sc.GEN_AI_REQUEST_SEED,
    "frequency_penalty": sc.GEN_AI_REQUEST_FREQUENCY_PENALTY,
    "presence_penalty": sc.GEN_AI_REQUEST_PRESENCE_PENALTY,
}
_ABSENT: Any = object()


def field(obj: Any, name: str, default: Any = None) -> Any:
    """``obj[name]`` for dicts, ``obj.name`` otherwise.

    openai's (pydantic v2) objects are read from their field and extra-field dicts: a name the object
    does not have (``reasoning_content`` on most messages) costs a dict lookup, not an AttributeError.
    """
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(name, default)
    extra = getattr(obj, "__pydantic_extra__", _ABSENT)
    if extra is _ABSENT:
        return getattr(obj, name, default)
    value = obj.__dict__.get(name, _ABSENT)
    if value is not _ABSENT:
        return value
    return extra.get(name, default) if extra else default


class _AttributeView:
    """``.get(name, default)`` over an object's attributes (objects that are neither dicts nor pydantic)."""

    __slots__ = ("_obj",)

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self._obj, name, default)


_NO_VALUES: dict[str, Any] = {}


def values_of(obj: Any) -> Any:
    """Something with ``.get(name, default)`` over ``obj``'s fields, for reading several fields of one
    object: the dict itself, a pydantic object's field dict (extra fields merged in), or an attribute
    view. Read-only."""
    if isinstance(obj, dict):
        return obj
    if obj is None:
        return _NO_VALUES
    extra = getattr(obj, "__pydantic_extra__", _ABSENT)
    if extra is _ABSENT:
        return _AttributeView(obj)
    return {**obj.__dict__, **extra} if extra else obj.__dict__


def _base_url(client: Any) -> Any:
    # openai's ``base_url`` property runs an import statement on every read; what it returns is the
    # client's ``_base_url``, so that is read first and the property is the fallback.
    url = getattr(client, "__dict__", {}).get("_base_url")
    return url if url is not None else getattr(client, "base_url", None)


def request_attributes(instance: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``gen_ai.request.*`` and ``server.*`` from a create() call (openai's omit sentinels skipped)."""
    attributes: dict[str, Any] = {}
    for key, value in kwargs.items():
        attribute = _NUMERIC_REQUEST.get(key)
        if attribute is not None and isinstance(value, (int, float)):
            attributes[attribute] = value
    n = kwargs.get("n")
    if isinstance(n, int) and n != 1:
        attributes[sc.GEN_AI_REQUEST_CHOICE_COUNT] = n
    stop = kwargs.get("stop")
    if isinstance(stop, str):
        attributes[sc.GEN_AI_REQUEST_STOP_SEQUENCES] = [stop]
    elif isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        attributes[sc.GEN_AI_REQUEST_STOP_SEQUENCES] = stop
    if kwargs.get("stream") is True:
        attributes[sc.GEN_AI_REQUEST_STREAM] = True
    base_url = _base_url(getattr(instance, "_client", None))
    host = getattr(base_url, "host", None)
    if isinstance(host, str) and host:
        attributes[sc.SERVER_ADDRESS] = host
        port = getattr(base_url, "port", None)
        if isinstance(port, int):
            attributes[sc.SERVER_PORT] = port
    return attributes


def _content_parts(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": sc.PART_TYPE_TEXT, "content": content}]
    parts: list[dict[str, Any]] = []
    if isinstance(content, Iterable):
        for item in content:
            kind = field(item, "type")
            text = field(item, "text")
            if isinstance(text, str):
                parts.append({"type": sc.PART_TYPE_TEXT, "content": text})
            elif kind is not None:
                parts.append({"type": str(kind)})
    return parts


def _tool_call_part(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    return {"type": sc.PART_TYPE_TOOL_CALL, "id": call_id, "name": name, "arguments": arguments}


def chat_input_messages(messages: Any) -> list[dict[str, Any]]:
    """``messages`` of a chat.completions request as convention messages."""
    result: list[dict[str, Any]] = []
    if not isinstance(messages, Iterable) or isinstance(messages, (str, bytes)):
        return result
    for message in messages:
        role = field(message, "role") or "user"
        if role == "tool":
            parts = [{"type": sc.PART_TYPE_TOOL_CALL_RESPONSE, "id": field(message, "tool_call_id"),
                      "response": field(message, "content")}]
        else:
            parts = _content_parts(field(message, "content"))
            for call in field(message, "tool_calls") or ():
                function = field(call, "function")
                parts.append(_tool_call_part(field(call, "id"), field(function, "name"),
                                             field(function, "arguments")))
        result.append({"role": role, "parts": parts})
    return result


def responses_input_messages(request_input: Any, instructions: Any) -> list[dict[str, Any]]:
    """``input`` (and ``instructions``) of a responses.create request as convention messages."""
    result: list[dict[str, Any]] = []
    if isinstance(instructions, str):
        result.append({"role": "system", "parts": _content_parts(instructions)})
    if isinstance(request_input, str):
        result.append({"role": "user", "parts": _content_parts(request_input)})
        return result
    if not isinstance(request_input, Iterable):
        return result
    for item in request_input:
        kind = field(item, "type")
        if kind == "function_call_output":
            result.append({"role": "tool", "parts": [{"type": sc.PART_TYPE_TOOL_CALL_RESPONSE,
                                                      "id": field(item, "call_id"),
                                                      "response": field(item, "output")}]})
        elif kind == "function_call":
            result.append({"role": "assistant", "parts": [_tool_call_part(
                field(item, "call_id"), field(item, "name"), field(item, "arguments"))]})
        else:
            result.append({"role": field(item, "role") or "user",
                           "parts": _content_parts(field(item, "content"))})
    return result


def output_message(reasoning: str | None, text: str | None, tool_calls: list[tuple[Any, Any, Any]],
                   finish_reason: str | None) -> dict[str, Any]:
    """One assistant output message: reasoning part, text part, tool call parts."""
    parts: list[dict[str, Any]] = []
    if reasoning:
        parts.append({"type": sc.PART_TYPE_REASONING, "content": reasoning})
    if text:
        parts.append({"type": sc.PART_TYPE_TEXT, "content": text})
    for call_id, name, arguments in tool_calls:
        parts.append(_tool_call_part(call_id, name, arguments))
    message: dict[str, Any] = {"role": "assistant", "parts": parts}
    if finish_reason:
        message["finish_reason"] = finish_reason
    return message


def text_or_empty(value: Any) -> str:
    """A tool call's id or name as the span records it: ``""`` when the response lacks it (the names and
    ids arrays stay index-aligned; never the string ``"None"``)."""
    return value if isinstance(value, str) else ""


def int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
