"""What a REST handler can reach: the store and the service's optional parts."""

from __future__ import annotations

from collections.abc import Callable
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
    (``--learn-every``). ``read_barrier`` is set by the server that serves this context: it waits until
    the runs of every span acknowledged before the call are assembled (bounded; ``False`` when it gave
    up), so a REST read after an acknowledgement sees the run of those spans.
    """

    store: Store
    prompts_repo: Path | None = None
    judge: Any = None
    meta_agent: MetaAgent | None = None
    read_barrier: Callable[[], bool] | None = None

    def await_runs(self) -> None:
        """Wait (bounded) until the runs of every acknowledged span are assembled; a no-op without a
        server."""
        if self.read_barrier is not None:
            self.read_barrier()
