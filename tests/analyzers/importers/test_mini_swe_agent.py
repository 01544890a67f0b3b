from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from analyzers.errors import ImportDataError
from analyzers.importers import mini_swe_agent
from tests.support.datasets import MINI_SWE_AGENT, dataset, requires_datasets


def _assistant(text: str, created: int) -> dict:
    return {"role": "assistant", "content": text, "extra": {"response": {"created": created}}}


def _write_instance(root: Path, instance_id: str, messages: list[dict], resolved: bool | None) -> None:
    folder = root / "trajs" / instance_id
    folder.mkdir(parents=True)
    (folder / f"{instance_id}.traj.json").write_text(
        json.dumps({"instance_id": instance_id, "info": {}, "messages": messages})
    )
    if resolved is not None:
        logs = root / "logs" / instance_id
        logs.mkdir(parents=True)
        (logs / "report.json").write_text(json.dumps({instance_id: {"resolved": resolved}}))


def test_turns_map_to_thinking_and_tool_steps(tmp_path: Path) -> None:
    messages = [
        {"role": "system", "content": "rules"},
        {"role": "user", "content": "the issue"},
        _assistant("THOUGHT: look around\n\n```bash\nls -la src\n```", 100),
        {"role": "user", "content": "<returncode>0</returncode><output>a</output>"},
        _assistant("THOUGHT: two at once\n\n```bash\nls\n```\n```bash\ncat x\n```", 104),
        {"role": "user", "content": "Please always provide EXACTLY ONE action in triple backticks, found 2 actions."},
        _assistant("THOUGHT: grep it\n\n```bash\ngrep -r foo .\n```", 110),
        {"role": "user", "content": "<returncode>1</returncode><output></output>"},
        _assistant("THOUGHT: slow\n\n```bash\npytest tests\n```", 111),
        {"role": "user", "content": "The last command <command>pytest tests</command> timed out and has been killed."},
        _assistant("THOUGHT: done\n\n```bash\necho COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && git diff\n```", 130),
        {"role": "user", "content": "diff --git a/x b/x"},
    ]
    _write_instance(tmp_path, "repo__repo-1", messages, resolved=True)
    [run] = mini_swe_agent.load_runs(tmp_path)
    assert run.agent == "mini-swe-agent" and run.outcome is True and run.problem_id == "repo__repo-1"
    tools = [(s.name, s.ok, s.error_type, round((s.end_ns - s.start_ns) / 10**9)) for s in run.steps if s.kind == "tool"]
    assert tools == [
        ("ls", True, None, 4),
        ("grep", False, "NonZeroExit", 1),
        ("pytest", False, "Timeout", 19),
        ("echo", True, None, 0),
    ]
    thoughts = [s for s in run.steps if s.kind == "thinking"]
    assert len(thoughts) == 5
    assert thoughts[0].chars == len("look around")
    assert (run.end_ns - run.start_ns) // 10**9 == 30


def test_outcome_comes_from_the_sb_cli_report_first(tmp_path: Path) -> None:
    turn = [_assistant("THOUGHT: x\n\n```bash\nls\n```", 1)]
    _write_instance(tmp_path, "a__a-1", turn, resolved=True)
    _write_instance(tmp_path, "b__b-2", turn, resolved=None)
    reports = tmp_path / "trajs" / "sb-cli-reports"
    reports.mkdir()
    (reports / "r.json").write_text(json.dumps({"resolved_ids": [], "unresolved_ids": ["a__a-1"]}))
    runs = {r.problem_id: r for r in mini_swe_agent.load_runs(tmp_path)}
    assert runs["a__a-1"].outcome is False
    assert runs["b__b-2"].outcome is None


def test_missing_or_broken_folders_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ImportDataError, match="no trajs/ folder"):
        mini_swe_agent.load_runs(tmp_path)
    (tmp_path / "trajs").mkdir()
    with pytest.raises(ImportDataError, match="no trajs/<id>/<id>.traj.json"):
        mini_swe_agent.load_runs(tmp_path)
    bad = tmp_path / "trajs" / "x"
    bad.mkdir()
    (bad / "x.traj.json").write_text("[]")
    with pytest.raises(ImportDataError, match="not a mini-SWE-agent trajectory"):
        mini_swe_agent.load_runs(tmp_path)


@requires_datasets
def test_published_runs_map_to_the_readme_counts() -> None:
    runs = mini_swe_agent.load_runs(dataset(MINI_SWE_AGENT))
    assert len(runs) == 100
    assert sum(r.outcome is True for r in runs) == 75
    assert sum(r.outcome is False for r in runs) == 25
    thinking = [sum(s.kind == "thinking" for s in r.steps) for r in runs]
    assert min(thinking) == 18 and max(thinking) == 111 and sorted(thinking)[49:51] == [35, 36]
    errors = Counter(s.error_type for r in runs for s in r.steps if s.kind == "tool")
    assert errors["NonZeroExit"] == 264  # the README: 264 observations with rc != 0
    assert errors["Timeout"] == 2
    # 3,695 observations with a return code, plus each run's final submission.
    assert sum(errors.values()) == 3695 + 2 + 100
    tools = Counter(s.name for r in runs for s in r.steps if s.kind == "tool")
    assert {"cat", "sed", "grep", "python", "python3", "nl", "ls"} <= set(tools)
    durations = sorted(r.end_ns - r.start_ns for r in runs)
    assert 200 <= (durations[49] + durations[50]) / 2 / 1e9 <= 240  # README: median 221 s
