"""What a REST handler can reach: the store and the service's optional parts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzers.store.base import Store

if TYPE_CHECKING:
    from analyzers.orchestrator import MetaAgent


@dataclass
class ServiceContext:
    """Shared by every request of one running service.

    ``judge`` is the reasoning judge's configuration (``analyzers.assessor.JudgeConfig``) or ``None``
    for the heuristic judge; ``meta_agent`` is set when the service learns on its own
    (``--learn-every``).
    """

    store: Store
    prompts_repo: Path | None = None
    judge: Any = None
    meta_agent: MetaAgent | None = None
