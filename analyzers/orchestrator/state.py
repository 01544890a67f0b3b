"""The MetaAgent's state file (the seed's shape): ``config``, ``learning_state``, ``performance_history``.

Written atomically (a temporary file in the same folder, then ``os.replace``), so a crash mid-write
leaves the previous state intact.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analyzers.errors import StateFileError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PerformanceRecord:
    """One agent's success rate on one prompt version, as seen at the end of one cycle."""

    cycle: int
    time: str
    agent: str
    prompt_version: str | None
    runs: int
    successes: int

    @property
    def success_rate(self) -> float:
        return self.successes / self.runs if self.runs else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "cycle": self.cycle,
            "time": self.time,
            "agent": self.agent,
            "prompt_version": self.prompt_version,
            "runs": self.runs,
            "successes": self.successes,
            "success_rate": round(self.success_rate, 4),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PerformanceRecord:
        return cls(int(data["cycle"]), str(data["time"]), str(data["agent"]), data.get("prompt_version"),
                   int(data["runs"]), int(data["successes"]))


@dataclass(frozen=True)
class LearningState:
    """What the MetaAgent remembers across restarts.

    ``last_learning_time`` is a Unix time in seconds (``None`` before the first cycle);
    ``patterns_learned`` the ids of every pattern a cycle applied; ``last_cycle`` the summary
    ``start_learning_cycle`` returned last; ``cycles`` the summaries of the recent cycles (whichever
    path ran them: ``learn``, ``serve --learn-every`` or the MetaAgent), oldest first.
    """

    learning_cycles: int = 0
    last_learning_time: float | None = None
    patterns_learned: tuple[str, ...] = ()
    last_cycle: dict[str, Any] = field(default_factory=dict)
    performance_history: tuple[PerformanceRecord, ...] = ()
    cycles: tuple[dict[str, Any], ...] = ()

    @property
    def total_patterns_learned(self) -> int:
        return len(self.patterns_learned)

    def to_json(self, config: dict[str, Any]) -> dict[str, Any]:
        return {
            "config": config,
            "learning_state": {
                "last_learning_time": self.last_learning_time,
                "learning_cycles": self.learning_cycles,
                "total_patterns_learned": self.total_patterns_learned,
                "patterns_learned": list(self.patterns_learned),
                "last_cycle": self.last_cycle,
                "cycles": list(self.cycles),
            },
            "performance_history": [p.to_json() for p in self.performance_history],
        }

    @classmethod
    def from_json(cls, data: Any, *, source: str) -> LearningState:
        if not isinstance(data, dict) or not isinstance(data.get("learning_state"), dict):
            raise StateFileError(f"{source} is not a MetaAgent state file (no learning_state object)")
        ls = data["learning_state"]
        try:
            return cls(
                learning_cycles=int(ls.get("learning_cycles", 0)),
                last_learning_time=(float(ls["last_learning_time"])
                                    if ls.get("last_learning_time") is not None else None),
                patterns_learned=tuple(str(p) for p in ls.get("patterns_learned", ())),
                last_cycle=dict(ls.get("last_cycle") or {}),
                cycles=tuple(dict(c) for c in ls.get("cycles") or ()),
                performance_history=tuple(PerformanceRecord.from_json(p)
                                          for p in data.get("performance_history") or ()),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise StateFileError(f"{source} has a malformed MetaAgent state: {exc!r}") from None


def read_state(path: Path) -> LearningState | None:
    """The state in ``path``, or ``None`` when the file does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateFileError(f"cannot read the MetaAgent state file {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise StateFileError(f"the MetaAgent state file {path} is not JSON: {exc}") from None
    return LearningState.from_json(data, source=str(path))


def write_state(path: Path, state: LearningState, config: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(state.to_json(config), f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
