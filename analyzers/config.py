"""Every environment variable the analyzer reads, read here and nowhere else.

| variable | meaning | default |
| --- | --- | --- |
| ``META_AGENT_CONFIG_FILE`` | YAML file with ``MetaAgentConfig`` fields (``--config`` wins) | none |
| ``META_AGENT_STATE_FILE`` | the MetaAgent's state file (JSON) | ``<db stem>.state.json`` next to the store |
| ``META_AGENT_LOG_LEVEL`` | DEBUG, INFO, WARNING or ERROR (``--log-level`` wins) | the caller's (the CLI: WARNING, INFO for ``serve``) |
| ``OTEL_META_JUDGE_MODEL`` | the LLM judge's model name | none (heuristic judge) |
| ``OTEL_META_JUDGE_BASE_URL`` | the judge's OpenAI-compatible base URL (``.../v1``) | none (heuristic judge) |
| ``OTEL_META_JUDGE_API_KEY`` | the judge's API key | ``OPENAI_API_KEY`` |
| ``OPENAI_API_KEY`` | the judge's API key when ``OTEL_META_JUDGE_API_KEY`` is unset | none |
| ``OTEL_META_JUDGE_ON_ERROR`` | ``raise`` (a ``JudgeError``) or ``heuristic`` (fall back) | ``raise`` |
| ``OTEL_META_OUTCOME_RULE`` | which evaluation results give a run's outcome, e.g. ``names=task_success,threshold=0.5`` (``analyzers.conventions.OutcomeRule.parse``) | any evaluation but the judge's, by label |

The LLM judge is used only when both a model and a base URL are set.
"""

from __future__ import annotations

import os


def _get(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def log_level(flag: str | None = None, default: str = "INFO") -> str:
    """``flag`` (``--log-level``), else ``META_AGENT_LOG_LEVEL``, else ``default``; upper-cased.

    Raises ``ValueError`` naming the source and the allowed levels when the value is not one of
    DEBUG, INFO, WARNING or ERROR.
    """
    source, value = ("--log-level", flag) if flag else ("META_AGENT_LOG_LEVEL", _get("META_AGENT_LOG_LEVEL"))
    level = (value or default).upper()
    if level not in LOG_LEVELS:
        raise ValueError(f"{source} must be one of {', '.join(LOG_LEVELS)}, got {value!r}")
    return level


def meta_agent_config_file() -> str | None:
    """``META_AGENT_CONFIG_FILE``: a YAML file with ``MetaAgentConfig`` fields, or ``None``."""
    return _get("META_AGENT_CONFIG_FILE")


def meta_agent_state_file() -> str | None:
    """``META_AGENT_STATE_FILE``: where the MetaAgent keeps its state, or ``None`` for the default."""
    return _get("META_AGENT_STATE_FILE")


def judge_model() -> str | None:
    """``OTEL_META_JUDGE_MODEL``: the LLM judge's model, or ``None``."""
    return _get("OTEL_META_JUDGE_MODEL")


def judge_base_url() -> str | None:
    """``OTEL_META_JUDGE_BASE_URL``: the LLM judge's OpenAI-compatible base URL, or ``None``."""
    return _get("OTEL_META_JUDGE_BASE_URL")


def judge_api_key() -> str | None:
    """``OTEL_META_JUDGE_API_KEY``, else ``OPENAI_API_KEY``, else ``None``."""
    return _get("OTEL_META_JUDGE_API_KEY") or _get("OPENAI_API_KEY")


def judge_on_error() -> str:
    """``OTEL_META_JUDGE_ON_ERROR``: ``raise`` (default) or ``heuristic``."""
    return (_get("OTEL_META_JUDGE_ON_ERROR") or "raise").lower()


def outcome_rule() -> str | None:
    """``OTEL_META_OUTCOME_RULE``: the outcome rule's text (``OutcomeRule.parse``), or ``None``."""
    return _get("OTEL_META_OUTCOME_RULE")
