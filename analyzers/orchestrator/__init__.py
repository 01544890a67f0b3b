"""The orchestrator: the MetaAgent that runs learning cycles and keeps their state.

``analyzers.orchestrator.cycle.run_cycle`` is the one learning-cycle code path (mine, write
guidelines, auto-rollback); ``MetaAgent`` wraps it with the assess step, a state file, the seed's
recorder API, embedded span capture and a continuous loop.
"""

from __future__ import annotations

from analyzers.orchestrator.config import MetaAgentConfig
from analyzers.orchestrator.meta_agent import MetaAgent
from analyzers.orchestrator.state import LearningState, PerformanceRecord

__all__ = ["LearningState", "MetaAgent", "MetaAgentConfig", "PerformanceRecord"]
