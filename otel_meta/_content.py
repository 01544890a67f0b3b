"""Captured content: redaction, truncation and safe JSON of arbitrary host values.

Only called when content capture is on. Secrets of common shapes are replaced by ``[REDACTED]``,
then the user's redaction hook runs, then each text value is truncated to the configured length.
Host objects that JSON cannot represent are written as their (redacted) ``repr``; an object whose
``repr`` raises is written as ``<unrepresentable TypeName>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from otel_meta._config import CaptureMode

REDACTED = "[REDACTED]"
_SECRET_PATTERNS = (
    re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),
    re.compile(r"\b[Bb]earer\s+[A-Za-z0-9._~+/=\-]{8,}"),
    re.compile(r"\beyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}"),
    re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"),
)
_MAX_DEPTH = 6
_MAX_ITEMS = 100

RedactionHook = Callable[[str], str]


def redact_secrets(text: str) -> str:
    """Replace API keys, bearer tokens, JWT-looking strings and e-mail addresses."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


@dataclass(frozen=True)
class ContentPolicy:
    """Whether and how content is captured: the mode, the user's hook and the length limit."""

    mode: CaptureMode = CaptureMode.NO_CONTENT
    redaction_hook: RedactionHook | None = None
    max_length: int = 4096

    def text(self, value: str) -> str:
        """Redact and truncate one text value. A raising hook propagates (the caller guards it); a hook
        that returns ``None`` drops the text (``[REDACTED]``), never the string ``"None"``."""
        text = redact_secrets(value)
        if self.redaction_hook is not None:
            hooked = self.redaction_hook(text)
            text = REDACTED if hooked is None else safe_str(hooked)
        if len(text) > self.max_length:
            marker = f"…[truncated {len(text) - self.max_length} chars]"
            text = text[: max(0, self.max_length - len(marker))] + marker
        return text

    def json(self, value: Any) -> str:
        """The JSON of ``value`` with every string redacted and truncated."""
        return json.dumps(self.plain(value), ensure_ascii=False, separators=(",", ":"))

    def plain(self, value: Any, depth: int = 0) -> Any:
        """``value`` as JSON-ready data (dicts, lists, strings, numbers) with strings cleaned."""
        if value is None or isinstance(value, (bool, int, float)):
            return value
        if isinstance(value, str):
            return self.text(value)
        if depth >= _MAX_DEPTH:
            return self.text(safe_repr(value))
        if isinstance(value, dict):
            return {self.text(str(k)): self.plain(v, depth + 1)
                    for k, v in list(value.items())[:_MAX_ITEMS]}
        if isinstance(value, (list, tuple)):
            return [self.plain(v, depth + 1) for v in value[:_MAX_ITEMS]]
        dump = getattr(value, "model_dump", None)
        if callable(dump):
            try:
                return self.plain(dump(), depth + 1)
            except Exception:  # noqa: BLE001 - a host object's own method may raise anything
                pass
        return self.text(safe_repr(value))


def safe_repr(value: object) -> str:
    """``repr(value)``, or ``<unrepresentable TypeName>`` when that raises."""
    try:
        return repr(value)
    except Exception:  # noqa: BLE001 - a host object's __repr__ may raise anything
        return f"<unrepresentable {type(value).__name__}>"


def safe_str(value: object) -> str:
    """``str(value)``, falling back to ``safe_repr`` when that raises."""
    if isinstance(value, str):
        return value
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - a host object's __str__ may raise anything
        return safe_repr(value)
