"""Every environment variable the analyzer reads, read here and nowhere else."""

from __future__ import annotations

import os


def log_level() -> str:
    """``META_AGENT_LOG_LEVEL`` (DEBUG, INFO, WARNING, ERROR); INFO by default."""
    return os.environ.get("META_AGENT_LOG_LEVEL", "INFO")
