"""The optional LLM rewrite of new guideline lines (off by default), and the check its answer must pass.

The LLM sees only the template lines (tool names and figures), never trace text. Its answer is used
only when ``validate_rewrite`` accepts it: JSON ``{"lines": [...]}`` with exactly one line per input
line, each a single line of at most ``MAX_LINE_CHARS`` characters that keeps its input line's verb and
tool sequence (or, for a line without tools, its whole phrase) as its start (so agents can still parse it, see ``templates``), mentions no tool name
outside the pattern set, and has no URL and no code. Otherwise the template text is used, and the
commit message says which was used and why (a fixed reason, never the model's text).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from analyzers.guidelines.templates import parse_line

_logger = logging.getLogger(__name__)

MAX_LINE_CHARS = 240
_URL_RE = re.compile(
    r"(?i)\b[a-z][a-z0-9+.-]*://|\bwww\.|\b[a-z0-9-]+\.(?:com|org|net|io|dev|ai|sh|co|app|xyz|ly)\b|@[a-z0-9-]+\."
)
_CODE_RE = re.compile(
    r"[`{}\[\];$<>=\\|]|\(\)|\b(?:import|def|lambda|eval|exec|sudo|curl|wget|chmod|bash|python)\b|^\s*(?:#!|>>>)"
)
#: A word that looks like a tool identifier: it has ``_``, ``.`` or ``:`` inside and a letter.
_IDENT_RE = re.compile(r"[A-Za-z0-9_.:-]*[A-Za-z][A-Za-z0-9_.:-]*")

SYSTEM_PROMPT = (
    "You edit guideline lines for an AI agent. Rewrite each line so it reads clearly. Each rewritten "
    "line must start with exactly the same words as its input line up to the opening parenthesis "
    "(the verb and the tool names joined by ' -> '). Do not mention any other tool, no URLs, no code. "
    'Answer with JSON {"lines": [...]}, one line per input line, in the same order.'
)


@dataclass(frozen=True)
class RewriteOutcome:
    """``lines`` is the accepted rewrite, or ``None`` when the template text is to be used."""

    lines: tuple[str, ...] | None
    source: Literal["template", "llm"]
    note: str = ""

    @classmethod
    def template(cls, note: str = "") -> RewriteOutcome:
        return cls(None, "template", note)


def _prefix(line: str) -> str:
    parsed = parse_line(line)
    return parsed.prefix if parsed else line.split(" (", 1)[0]


def validate_rewrite(
    answer: Any, inputs: Sequence[str], allowed_tools: Collection[str], known_tools: Collection[str] = ()
) -> str | None:
    """``None`` when ``answer`` (the parsed JSON) is an acceptable rewrite of ``inputs``; otherwise the
    reason it is rejected (a fixed phrase that quotes nothing from the answer).

    A word counts as a tool name when it has ``_``, ``.`` or ``:`` inside, or is one of
    ``known_tools`` (every tool the agent's runs used); it must be one of ``allowed_tools``."""
    if not isinstance(answer, dict) or not isinstance(answer.get("lines"), list):
        return 'the answer is not {"lines": [...]}'
    lines = answer["lines"]
    if len(lines) != len(inputs):
        return "the answer has a different number of lines"
    allowed = set(allowed_tools)
    known = set(known_tools)
    for line, original in zip(lines, inputs):
        if not isinstance(line, str) or not line.strip():
            return "a line is empty or not text"
        text = line.strip().removeprefix("- ")
        if "\n" in text or "\r" in text or len(text) > MAX_LINE_CHARS:
            return "a line is too long or spans several lines"
        if not text.startswith(_prefix(original)):
            return "a line does not keep its verb and tool sequence"
        if _URL_RE.search(text):
            return "a line contains a URL"
        if _CODE_RE.search(text.replace(" -> ", " ")):
            return "a line contains code"
        for word in _IDENT_RE.findall(text):
            word = word.strip(".:-")
            if (word in known or any(c in word for c in "_.:")) and word not in allowed:
                return "a line names a tool outside the pattern set"
    return None


class GuidelineRewriter:
    """Rewrites template lines with a chat model through the ``openai`` client.

    ``client`` is an ``openai.OpenAI`` instance (any OpenAI-compatible endpoint). JSON schema output
    is requested; set ``json_schema=False`` for endpoints that only know ``json_object``.
    """

    def __init__(
        self,
        client: Any,
        model: str,
        *,
        temperature: float = 0.0,
        max_tokens: int = 600,
        json_schema: bool = True,
    ) -> None:
        self.client = client
        self.model = model
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.json_schema = json_schema

    def _response_format(self, n: int) -> dict[str, Any]:
        if not self.json_schema:
            return {"type": "json_object"}
        schema = {
            "type": "object",
            "properties": {
                "lines": {
                    "type": "array",
                    "items": {"type": "string", "maxLength": MAX_LINE_CHARS},
                    "minItems": n,
                    "maxItems": n,
                }
            },
            "required": ["lines"],
            "additionalProperties": False,
        }
        return {
            "type": "json_schema",
            "json_schema": {"name": "guidelines", "schema": schema, "strict": True},
        }

    def rewrite(
        self, lines: Sequence[str], *, allowed_tools: Collection[str], known_tools: Collection[str] = ()
    ) -> RewriteOutcome:
        """Ask the model; return the accepted lines, or the template outcome with the reason."""
        if not lines:
            return RewriteOutcome.template()
        try:
            response = self.client.chat.completions.create(
                model=self.model,
                temperature=self.temperature,
                max_tokens=self.max_tokens,
                response_format=self._response_format(len(lines)),
                messages=[
                    {"role": "system", "content": SYSTEM_PROMPT},
                    {"role": "user", "content": json.dumps({"lines": list(lines)})},
                ],
            )
            content = response.choices[0].message.content or ""
        except Exception as exc:  # the openai client raises many types; any failure means templates
            _logger.warning("guideline rewrite failed (%s); using the template text", type(exc).__name__)
            return RewriteOutcome.template(f"LLM rewrite failed: {type(exc).__name__}")
        try:
            answer = json.loads(_strip_fences(content))
        except ValueError:
            return RewriteOutcome.template("LLM rewrite rejected: the answer is not JSON")
        reason = validate_rewrite(answer, lines, allowed_tools, known_tools)
        if reason is not None:
            _logger.info("guideline rewrite rejected: %s", reason)
            return RewriteOutcome.template(f"LLM rewrite rejected: {reason}")
        accepted = tuple(line.strip().removeprefix("- ") for line in answer["lines"])
        return RewriteOutcome(accepted, "llm", f"model {_safe_model(self.model)}")


def _strip_fences(text: str) -> str:
    text = text.strip()
    if text.startswith("```"):
        text = text.strip("`")
        text = text.split("\n", 1)[1] if "\n" in text else text
    return text


def _safe_model(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.:/-]", "", model)[:64]
