"""A run's fallback task key: what groups runs of the same task when ``otel_meta.problem.id`` does not.

``task_key(spans)`` returns ``(key, source)``:

- ``problem_context``: a digest of the problem context's other attributes (``otel_meta.app.namespace``,
  ``otel_meta.app.name``, ``otel_meta.app.description``; otel-meta's recorder writes them from the
  ``ProblemContext`` on the run's agent span), when any is set;
- else ``first_message``: a digest of the first user message, when content capture put the run's input
  on a span (``gen_ai.input.messages`` on an LLM span, or the ``gen_ai.client.inference.operation.details``
  and ``gen_ai.user.message`` events), earliest span first;
- else ``(None, None)``.

The key is a digest, never the content itself: the store keeps no captured text in a run. The miner
(``analyzers.mining._tasks``) groups by ``problem_id`` when those ids repeat, else by this key when it
repeats, else pools the runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from analyzers.model import SpanRecord
from otel_meta import semconv as sc

_CONTEXT_ATTRIBUTES = (sc.OTEL_META_APP_NAMESPACE, sc.OTEL_META_APP_NAME, sc.OTEL_META_APP_DESCRIPTION)


def _digest(prefix: str, parts: Iterable[str]) -> str:
    return prefix + hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def _context_key(spans: Sequence[SpanRecord]) -> str | None:
    values = []
    for key in _CONTEXT_ATTRIBUTES:
        value = next((s.attributes[key] for s in spans if s.attributes.get(key) not in (None, "")), "")
        values.append(str(value))
    return _digest("ctx-", values) if any(values) else None


def _text(content: Any) -> str:
    """The text of a message's content: a string, or the ``text`` parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("content", part.get("text", "")))
            for part in content
            if isinstance(part, dict) and part.get("type", sc.PART_TYPE_TEXT) == sc.PART_TYPE_TEXT
        )
    return ""


def _first_user_text(raw: Any) -> str | None:
    """The first user message's text in a ``gen_ai.input.messages`` value (JSON), if any."""
    if not isinstance(raw, str):
        return None
    try:
        messages = json.loads(raw)
    except ValueError:
        return None
    for message in messages if isinstance(messages, list) else ():
        if isinstance(message, dict) and message.get("role") == sc.ROLE_USER:
            text = _text(message.get("parts", message.get("content"))).strip()
            if text:
                return text
    return None


def _message_key(spans: Sequence[SpanRecord]) -> str | None:
    for span in sorted(spans, key=lambda s: s.start_time_unix_nano):
        text = _first_user_text(span.attributes.get(sc.GEN_AI_INPUT_MESSAGES))
        for event in span.events:
            if text is not None:
                break
            if event.name == sc.EVENT_INFERENCE_DETAILS:
                text = _first_user_text(event.attributes.get(sc.GEN_AI_INPUT_MESSAGES))
            elif event.name == sc.EVENT_USER_MESSAGE:
                content = event.attributes.get(sc.EVENT_CONTENT)
                text = content.strip() or None if isinstance(content, str) else None
        if text is not None:
            return _digest("msg-", [text])
    return None


def task_key(spans: Sequence[SpanRecord]) -> tuple[str | None, str | None]:
    """``(key, source)`` of the run whose spans these are (the run's agent span first, if any)."""
    key = _context_key(spans)
    if key is not None:
        return key, "problem_context"
    key = _message_key(spans)
    if key is not None:
        return key, "first_message"
    return None, None
