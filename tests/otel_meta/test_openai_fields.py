"""Reading fields from openai's objects, dicts and plain objects alike (no AttributeError per miss)."""

from __future__ import annotations

from types import SimpleNamespace

from openai.types.chat import ChatCompletion

from otel_meta._openai._messages import field, values_of
from tests.support.openai_server import chat_completion


def test_fields_of_pydantic_objects_include_extra_fields() -> None:
    response = ChatCompletion.model_validate(chat_completion("hi", reasoning_content="because"))
    message = response.choices[0].message
    assert field(message, "reasoning_content") == "because"
    assert field(message, "content") == "hi"
    assert field(message, "reasoning") is None
    assert field(message, "missing", "default") == "default"
    values = values_of(message)
    assert values.get("reasoning_content") == "because" and values.get("role") == "assistant"
    assert values_of(response).get("choices") == response.choices


def test_fields_of_dicts_plain_objects_and_none() -> None:
    assert field({"a": 1}, "a") == 1 and values_of({"a": 1}).get("b", 2) == 2
    plain = SimpleNamespace(a=1)
    assert field(plain, "a") == 1 and field(plain, "b") is None
    assert values_of(plain).get("a") == 1 and values_of(plain).get("b", 3) == 3
    assert field(None, "a", 4) == 4 and values_of(None).get("a") is None
