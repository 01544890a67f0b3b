"""The reasoning judge's configuration."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from analyzers import config as env

OnError = Literal["raise", "heuristic"]
ResponseFormatMode = Literal["auto", "json_schema", "json_object", "none"]


@dataclass(frozen=True)
class JudgeConfig:
    """How ``assess`` judges.

    The LLM judge runs when both ``model`` and ``base_url`` are set (any OpenAI-compatible
    ``/v1`` endpoint); otherwise the documented heuristic runs. ``replan_threshold`` and
    ``deepen_threshold`` turn a quality score into the ``should_replan`` / ``should_deepen_reasoning``
    flags (strictly below the threshold). ``on_error`` decides what an unusable LLM answer or an
    endpoint error does: ``"raise"`` raises ``JudgeError``; ``"heuristic"`` returns the heuristic
    verdict and says so in its text. ``response_format`` ``"auto"`` asks for a JSON schema first and
    steps down to ``json_object`` and then to no format when the endpoint rejects one (HTTP 400/422).
    """

    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    temperature: float = 0.4
    max_tokens: int = 1500
    timeout: float = 60.0
    max_retries: int = 2
    replan_threshold: float = 0.4
    deepen_threshold: float = 0.6
    on_error: OnError = "raise"
    response_format: ResponseFormatMode = "auto"

    def __post_init__(self) -> None:
        if not 0.0 <= self.replan_threshold <= self.deepen_threshold <= 1.0:
            raise ValueError(
                "thresholds must satisfy 0 <= replan_threshold <= deepen_threshold <= 1, got "
                f"replan={self.replan_threshold} deepen={self.deepen_threshold}"
            )
        if self.on_error not in ("raise", "heuristic"):
            raise ValueError(f"on_error must be 'raise' or 'heuristic', got {self.on_error!r}")
        if self.response_format not in ("auto", "json_schema", "json_object", "none"):
            raise ValueError(
                "response_format must be one of auto, json_schema, json_object, none; got "
                f"{self.response_format!r}"
            )

    @property
    def uses_llm(self) -> bool:
        """``True`` when a model and a base URL are configured."""
        return bool(self.model and self.base_url)

    def with_overrides(self, **changes: object) -> JudgeConfig:
        """A copy with the given fields replaced; ``None`` values are ignored."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]

    @classmethod
    def from_env(cls) -> JudgeConfig:
        """From ``OTEL_META_JUDGE_MODEL``, ``OTEL_META_JUDGE_BASE_URL``, ``OTEL_META_JUDGE_API_KEY`` (or
        ``OPENAI_API_KEY``) and ``OTEL_META_JUDGE_ON_ERROR``."""
        on_error = env.judge_on_error()
        if on_error not in ("raise", "heuristic"):
            raise ValueError(f"OTEL_META_JUDGE_ON_ERROR must be 'raise' or 'heuristic', got {on_error!r}")
        return cls(
            model=env.judge_model(),
            base_url=env.judge_base_url(),
            api_key=env.judge_api_key(),
            on_error=on_error,  # type: ignore[arg-type]
        )
