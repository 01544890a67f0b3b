"""The MetaAgent inside ``otel-meta serve``: its command-line flags and how they become the service's
judge and learning loop (``--prompts-repo DIR --learn-every SECONDS [--config FILE]`` and the judge
flags). Flags win over the config file, which wins over the environment."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from analyzers.assessor import JudgeConfig
from analyzers.orchestrator.config import MetaAgentConfig
from analyzers.orchestrator.meta_agent import MetaAgent
from analyzers.store.base import Store


def add_judge_arguments(parser: argparse.ArgumentParser) -> None:
    """``--judge-model``, ``--judge-base-url``, ``--judge-on-error``, ``--replan-threshold``,
    ``--deepen-threshold``."""
    parser.add_argument("--judge-model", default=None,
                        help="the LLM judge's model (default OTEL_META_JUDGE_MODEL; none: heuristic judge)")
    parser.add_argument("--judge-base-url", default=None,
                        help="the LLM judge's OpenAI-compatible base URL (default OTEL_META_JUDGE_BASE_URL)")
    parser.add_argument("--judge-on-error", choices=("raise", "heuristic"), default=None,
                        help="when the LLM judge fails: answer 502 (raise) or use the heuristic judge")
    parser.add_argument("--replan-threshold", type=float, default=None, help="quality below which to replan (0.4)")
    parser.add_argument("--deepen-threshold", type=float, default=None, help="quality below which to deepen (0.6)")


def add_rollout_arguments(parser: argparse.ArgumentParser) -> None:
    """``--candidate-fraction``, ``--rollout-alpha``, ``--rollout-max-runs`` (defaults from the config
    file, else ``RolloutSettings``'s)."""
    parser.add_argument("--candidate-fraction", type=float, default=None, metavar="F",
                        help="share of runs a new version gets as a candidate beside <agent>/stable "
                             "(default 0.5; 0: new versions go to every run at once)")
    parser.add_argument("--rollout-alpha", type=float, default=None, metavar="A",
                        help="error rate of the always-valid candidate test (default 0.05: e-value >= 20)")
    parser.add_argument("--rollout-max-runs", type=int, default=None, metavar="N",
                        help="runs per version after which the measured rates decide (default 200)")


def add_service_arguments(parser: argparse.ArgumentParser) -> None:
    """The serve command's learning flags: ``--prompts-repo``, ``--learn-every``, ``--config`` and the
    judge flags."""
    parser.add_argument("--prompts-repo", type=Path, default=None,
                        help="the git prompts repo the REST API reads and the learning loop writes (the "
                             "learning loop creates it when missing)")
    parser.add_argument("--learn-every", type=float, default=None, metavar="SECONDS",
                        help="run a learning cycle at start and then every SECONDS (needs --prompts-repo; "
                             "or learning_interval in the config file)")
    parser.add_argument("--config", type=Path, default=None,
                        help="MetaAgent YAML config (default META_AGENT_CONFIG_FILE)")
    add_judge_arguments(parser)
    add_rollout_arguments(parser)


def config_from_args(args: argparse.Namespace) -> MetaAgentConfig:
    """``MetaAgentConfig`` from ``--config`` (or ``META_AGENT_CONFIG_FILE``) overridden by the flags."""
    overrides: dict[str, Any] = {
        "db": str(args.db) if getattr(args, "db", None) else None,
        "prompts_repo": str(args.prompts_repo) if getattr(args, "prompts_repo", None) else None,
        "learning_interval": getattr(args, "learn_every", None),
        "judge_model": getattr(args, "judge_model", None),
        "judge_base_url": getattr(args, "judge_base_url", None),
        "judge_on_error": getattr(args, "judge_on_error", None),
        "replan_threshold": getattr(args, "replan_threshold", None),
        "deepen_threshold": getattr(args, "deepen_threshold", None),
        "candidate_fraction": getattr(args, "candidate_fraction", None),
        "rollout_alpha": getattr(args, "rollout_alpha", None),
        "rollout_max_runs": getattr(args, "rollout_max_runs", None),
    }
    return MetaAgentConfig.load(getattr(args, "config", None), **overrides)


def judge_from_args(args: argparse.Namespace) -> JudgeConfig:
    """The service's reasoning judge."""
    return config_from_args(args).judge()


def meta_agent_from_args(args: argparse.Namespace, store: Store) -> MetaAgent | None:
    """The service's learning loop when ``--learn-every`` is given (a ``ValueError`` without
    ``--prompts-repo``), else ``None``. It shares the service's store; spans arrive over OTLP."""
    if getattr(args, "learn_every", None) is None:
        return None
    if getattr(args, "prompts_repo", None) is None:
        raise ValueError("--learn-every needs --prompts-repo DIR (the git prompts repo to write)")
    return MetaAgent(config_from_args(args), store=store, embedded=False)


def learning_parts(args: argparse.Namespace, store: Store) -> tuple[JudgeConfig, MetaAgent | None]:
    """The serve command's judge and learning loop; a bad flag or config file exits with status 2 and
    the reason on stderr."""
    from analyzers.errors import OtelMetaError

    try:
        return judge_from_args(args), meta_agent_from_args(args, store)
    except (ValueError, OtelMetaError) as exc:
        print(f"otel-meta serve: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
