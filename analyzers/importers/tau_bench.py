"""Import τ-bench trajectories (``historical_trajectories/<model>-<domain>.json``).

One run per episode (``task_id`` x ``trial``), agent ``tau-bench-<domain>`` (``tau-bench-airline`` for
the airline file). Assistant turns are LLM steps; each tool call is a tool step, failed when its result
starts with "Error"; calls of the ``think`` tool are the thinking steps (and the only ones), with the
thought's length. Results are matched to calls by position (the published file reuses
``tool_call_id`` within an episode). The file has no timestamps, so times are synthesized: episode
``i`` starts ``i`` hours after ``BASE_TIME_NS`` and every message takes ``STEP_NS``. The outcome is
``reward == 1``.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from analyzers.errors import ImportDataError
from analyzers.importers._emit import ImportedRun, ImportedStep, tool_name

logger = logging.getLogger(__name__)

#: 2024-05-15T00:00:00Z, the airline domain's "current time".
BASE_TIME_NS = 1_715_731_200 * 1_000_000_000
#: Synthetic duration of one message (no timestamps in the file).
STEP_NS = 1_000_000_000
EPISODE_SPACING_NS = 3600 * 1_000_000_000
THINK_TOOL = "think"
MODEL = "gpt-4o"
_DOMAIN = re.compile(r"-(airline|retail)\.json$")


def agent_name(path: Path) -> str:
    """``tau-bench-airline`` / ``tau-bench-retail`` from the file name (``tau-bench`` otherwise)."""
    m = _DOMAIN.search(path.name)
    return f"tau-bench-{m.group(1)}" if m else "tau-bench"


def load_runs(path: str | Path) -> list[ImportedRun]:
    """Read one τ-bench trajectories file; ``ImportDataError`` when it is missing or malformed."""
    path = Path(path)
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ImportDataError(f"no τ-bench file at {path}") from None
    except (OSError, ValueError) as exc:
        raise ImportDataError(f"{path} is not a readable JSON file: {exc}") from None
    if not isinstance(records, list):
        raise ImportDataError(f"{path}: expected a JSON array of episodes, found {type(records).__name__}")
    agent = agent_name(path)
    return [_episode(record, i, agent, path) for i, record in enumerate(records)]


def _episode(record: Any, index: int, agent: str, path: Path) -> ImportedRun:
    try:
        task_id, trial, reward, traj = record["task_id"], record["trial"], record["reward"], record["traj"]
    except (KeyError, TypeError):
        raise ImportDataError(
            f"{path}: episode {index} lacks task_id, trial, reward or traj (is this a τ-bench file?)"
        ) from None
    start = BASE_TIME_NS + index * EPISODE_SPACING_NS
    clock = start
    steps: list[ImportedStep] = []
    pending: list[tuple[str, int, str]] = []  # (tool name, call time, arguments) in call order
    for message in traj:
        role = message.get("role")
        if role == "assistant":
            steps.append(ImportedStep("llm", MODEL, True, clock, clock + STEP_NS, provider="openai"))
            for call in message.get("tool_calls") or ():
                fn = call.get("function") or {}
                pending.append((str(fn.get("name", "")), clock + STEP_NS, str(fn.get("arguments") or "")))
        elif role == "tool":
            if not pending:
                raise ImportDataError(f"{path}: episode {index} has a tool result without a pending call")
            name, called, arguments = pending.pop(0)
            if name == THINK_TOOL:
                steps.append(
                    ImportedStep("thinking", THINK_TOOL, True, called, clock + STEP_NS, chars=_thought_chars(arguments))
                )
            else:
                ok = not str(message.get("content") or "").startswith("Error")
                steps.append(
                    ImportedStep("tool", tool_name(name), ok, called, clock + STEP_NS, None if ok else "ToolError")
                )
        clock += STEP_NS
    for name, called, arguments in pending:  # calls the episode ended before answering
        if name == THINK_TOOL:
            steps.append(ImportedStep("thinking", THINK_TOOL, True, called, called, chars=_thought_chars(arguments)))
        else:
            steps.append(ImportedStep("tool", tool_name(name), True, called, called))
    steps.sort(key=lambda s: s.start_ns)
    return ImportedRun(
        key=f"{agent}/task-{task_id}/trial-{trial}",
        agent=agent,
        problem_id=f"{agent}-task-{task_id}",
        outcome=float(reward) == 1.0,
        start_ns=start,
        end_ns=max(clock, start + STEP_NS),
        steps=tuple(steps),
    )


def _thought_chars(arguments: str) -> int:
    try:
        parsed = json.loads(arguments)
    except ValueError:
        return len(arguments)
    if isinstance(parsed, dict) and isinstance(parsed.get("thought"), str):
        return len(parsed["thought"])
    return len(arguments)
