"""Import mini-SWE-agent trajectories (a folder with ``trajs/<id>/<id>.traj.json``).

One run per instance, agent ``mini-swe-agent``. Each assistant turn is a THOUGHT (a thinking step,
with its length) and one bash command: the command's first word is the tool name, and the step is ok
when the observation's ``<returncode>`` is 0. A turn without exactly one bash block is a format error:
nothing was executed, so it has no tool step. Times come from the responses' ``created`` stamps
(1 s resolution): a turn's tool step lasts until the next turn's response. A command that timed out failed. The outcome is SWE-bench's
verdict: ``resolved_ids`` / ``unresolved_ids`` of the sb-cli report under ``trajs/sb-cli-reports/``,
else the instance's ``logs/<id>/report.json``; without either the outcome is unknown.
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

AGENT = "mini-swe-agent"
_NS = 1_000_000_000
_THOUGHT_NS = 1_000_000
_BASH = re.compile(r"```bash\s*\n(.*?)\n?```", re.DOTALL)
_RETURNCODE = re.compile(r"<returncode>\s*(-?\d+)\s*</returncode>")
_TIMEOUT = re.compile(r"The last command <command>.*?</command> timed out", re.DOTALL)


def load_runs(directory: str | Path) -> list[ImportedRun]:
    """Read every trajectory under ``directory/trajs``, sorted by instance id."""
    root = Path(directory)
    trajs = root / "trajs"
    if not trajs.is_dir():
        raise ImportDataError(f"no trajs/ folder under {root} (expected a mini-SWE-agent results folder)")
    outcomes = _sb_cli_outcomes(trajs)
    files = sorted(p for p in trajs.glob("*/*.traj.json"))
    if not files:
        raise ImportDataError(f"no trajs/<id>/<id>.traj.json files under {root}")
    return [_instance(f, root, outcomes) for f in files]


def _sb_cli_outcomes(trajs: Path) -> dict[str, bool]:
    outcomes: dict[str, bool] = {}
    for report in sorted((trajs / "sb-cli-reports").glob("*.json")):
        try:
            data = json.loads(report.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ImportDataError(f"{report} is not a readable JSON report: {exc}") from None
        outcomes.update({i: False for i in data.get("unresolved_ids", ())})
        outcomes.update({i: True for i in data.get("resolved_ids", ())})
    return outcomes


def _report_outcome(root: Path, instance_id: str) -> bool | None:
    report = root / "logs" / instance_id / "report.json"
    if not report.exists():
        return None
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    entry = data.get(instance_id, data)
    resolved = entry.get("resolved") if isinstance(entry, dict) else None
    return resolved if isinstance(resolved, bool) else None


def _instance(path: Path, root: Path, outcomes: dict[str, bool]) -> ImportedRun:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        messages = data["messages"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ImportDataError(f"{path} is not a mini-SWE-agent trajectory: {exc}") from None
    instance_id = str(data.get("instance_id") or path.parent.name)
    outcome = outcomes.get(instance_id)
    if outcome is None:
        outcome = _report_outcome(root, instance_id)
    turns = _turns(messages, path)
    steps: list[ImportedStep] = []
    for i, (created, text, observation) in enumerate(turns):
        start = created * _NS
        end = turns[i + 1][0] * _NS if i + 1 < len(turns) else start
        thought = text.split("```", 1)[0]
        thought = thought.removeprefix("THOUGHT:")
        steps.append(ImportedStep("thinking", "think", True, start, start, chars=len(thought.strip())))
        commands = _BASH.findall(text)
        if len(commands) != 1:
            continue  # a format error: no command was executed
        words = commands[0].split()
        name = tool_name(words[0]) if words else "empty"
        error = _error_type(observation)
        # The command runs after the thought: start it a millisecond later, so the order survives
        # assembly by start time.
        begin = start + _THOUGHT_NS
        steps.append(ImportedStep("tool", name, error is None, begin, max(end, begin), error))
    start_ns = turns[0][0] * _NS if turns else 0
    end_ns = turns[-1][0] * _NS if turns else 0
    return ImportedRun(
        key=f"{AGENT}/{instance_id}",
        agent=AGENT,
        problem_id=instance_id,
        outcome=outcome,
        start_ns=start_ns,
        end_ns=max(end_ns, start_ns),
        steps=tuple(steps),
    )


def _error_type(observation: str | None) -> str | None:
    """``None`` for a command that succeeded (return code 0, or the final submission, whose output is
    the diff); ``NonZeroExit`` or ``Timeout`` otherwise."""
    if observation is None:
        return None
    rc = _RETURNCODE.search(observation)
    if rc is not None:
        return None if int(rc.group(1)) == 0 else "NonZeroExit"
    if _TIMEOUT.match(observation):
        return "Timeout"
    return None


def _turns(messages: list[Any], path: Path) -> list[tuple[int, str, str | None]]:
    """(created, assistant text, the following observation) per assistant turn."""
    turns: list[tuple[int, str, str | None]] = []
    last_created = 0
    for i, message in enumerate(messages):
        if message.get("role") != "assistant":
            continue
        response = (message.get("extra") or {}).get("response") or {}
        created = response.get("created")
        created = int(created) if isinstance(created, (int, float)) else last_created
        last_created = created
        following = messages[i + 1] if i + 1 < len(messages) else None
        observation = None
        if following is not None and following.get("role") == "user":
            observation = str(following.get("content") or "")
        turns.append((created, str(message.get("content") or ""), observation))
    if not turns:
        logger.warning("%s has no assistant turns", path)
    return turns
