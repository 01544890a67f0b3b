"""The guideline writer: confident patterns become reviewable commits in a git prompts repo.

``PromptsRepo`` is the repository (one ``<agent>.yaml`` per agent), ``GuidelineWriter`` turns patterns
into guideline lines (``templates``) and commits them, ``prompt_history``/``version_diff`` read the
history back, ``compare_versions`` gives success rates per prompt version, ``rollout`` decides a
candidate version against the stable one. See docs/guidelines.md.
"""

from __future__ import annotations

from analyzers.guidelines.compare import (
    Comparison,
    VersionDifference,
    VersionStats,
    compare_versions,
    wilson_interval,
)
from analyzers.guidelines.history import HistoryEntry, prompt_history, version_diff
from analyzers.guidelines.messages import PatternChange
from analyzers.guidelines.prompt_file import Guideline, PromptFile, validate_agent_name
from analyzers.guidelines.repo import GitIdentity, PromptsRepo
from analyzers.guidelines.rewrite import GuidelineRewriter, RewriteOutcome, validate_rewrite
from analyzers.guidelines.rollout import (
    Rollout,
    RolloutDecision,
    RolloutSettings,
    apply_decision,
    decide,
    read_rollout,
)
from analyzers.guidelines.templates import LINE_RE, guideline_text, parse_line
from analyzers.guidelines.writer import GuidelinePlan, GuidelineWriter, WriteResult, proposal_branch

__all__ = [
    "LINE_RE",
    "Comparison",
    "GitIdentity",
    "Guideline",
    "GuidelinePlan",
    "GuidelineRewriter",
    "GuidelineWriter",
    "HistoryEntry",
    "PatternChange",
    "PromptFile",
    "PromptsRepo",
    "RewriteOutcome",
    "Rollout",
    "RolloutDecision",
    "RolloutSettings",
    "VersionDifference",
    "VersionStats",
    "WriteResult",
    "apply_decision",
    "compare_versions",
    "decide",
    "guideline_text",
    "parse_line",
    "prompt_history",
    "proposal_branch",
    "read_rollout",
    "validate_agent_name",
    "validate_rewrite",
    "version_diff",
    "wilson_interval",
]
