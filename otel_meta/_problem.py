"""The seed recorder's vocabulary: which agent ran, on which problem."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class AgentType(str, enum.Enum):
    """The agents of the seed system. Any plain string names an agent too."""

    DIAGNOSIS = "diagnosis"
    LOCALIZATION = "localization"
    MITIGATION = "mitigation"
    ROLLBACK = "rollback"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class ProblemContext:
    """The problem an agent run works on (written on the run's span as ``otel_meta.problem.id`` and
    ``otel_meta.app.*``)."""

    problem_id: str
    app_name: str = ""
    app_namespace: str = ""
    app_description: str = ""


def agent_name(agent: AgentType | str) -> str:
    """The agent's name as spans carry it."""
    return agent.value if isinstance(agent, AgentType) else str(agent)
