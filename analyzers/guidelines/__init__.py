"""The guideline writer: confident patterns become reviewable commits in a git prompts repo.

``PromptsRepo`` is the repository (one ``<agent>.yaml`` per agent), ``GuidelineWriter`` turns patterns
into guideline lines (``templates``) and commits them, ``prompt_history``/``version_diff`` read the
history back, ``compare_versions`` gives success rates per prompt version. See docs/guidelines.md.
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
    "VersionDifference",
    "VersionStats",
    "WriteResult",
    "compare_versions",
    "guideline_text",
    "parse_line",
    "prompt_history",
    "proposal_branch",
    "validate_agent_name",
    "validate_rewrite",
    "version_diff",
    "wilson_interval",
]
