from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from analyzers.errors import ImportDataError
from analyzers.importers import export_runs, tau_bench
from otel_meta import semconv as sc
from tests.support.datasets import TAU_BENCH_AIRLINE, dataset, requires_datasets


def _episode(traj: list[dict], reward: float = 1.0, task_id: int = 7, trial: int = 0) -> dict:
    return {"task_id": task_id, "trial": trial, "reward": reward, "info": {}, "traj": traj}


def _call(name: str, call_id: str = "call_same", arguments: str = "{}") -> dict:
    return {"role": "assistant", "content": None,
            "tool_calls": [{"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}]}


def _result(name: str, content: str, call_id: str = "call_same") -> dict:
    return {"role": "tool", "tool_call_id": call_id, "name": name, "content": content}


def test_results_are_matched_to_calls_by_position_despite_reused_ids(tmp_path: Path) -> None:
    traj = [
        {"role": "system", "content": "policy"},
        {"role": "user", "content": "hi"},
        _call("get_user_details"),
        _result("get_user_details", '{"name": "x"}'),
        _call("think", arguments=json.dumps({"thought": "abcdef"})),
        _result("think", ""),
        _call("book_reservation"),
        _result("book_reservation", "Error: gift card balance is not enough"),
        {"role": "assistant", "content": "sorry"},
    ]
    path = tmp_path / "gpt-4o-airline.json"
    path.write_text(json.dumps([_episode(traj, reward=0.0)]))
    [run] = tau_bench.load_runs(path)
    assert run.agent == "tau-bench-airline"
    assert run.outcome is False
    assert run.key == "tau-bench-airline/task-7/trial-0"
    assert [(s.kind, s.name, s.ok) for s in run.steps] == [
        ("llm", "gpt-4o", True),
        ("tool", "get_user_details", True),
        ("llm", "gpt-4o", True),
        ("thinking", "think", True),
        ("llm", "gpt-4o", True),
        ("tool", "book_reservation", False),
        ("llm", "gpt-4o", True),
    ]
    thinking = next(s for s in run.steps if s.kind == "thinking")
    assert thinking.chars == 6
    assert all(s.end_ns >= s.start_ns for s in run.steps)
    assert run.end_ns > run.start_ns


def test_import_errors_are_precise(tmp_path: Path) -> None:
    with pytest.raises(ImportDataError, match="no τ-bench file"):
        tau_bench.load_runs(tmp_path / "missing.json")
    bad = tmp_path / "x-airline.json"
    bad.write_text("{not json")
    with pytest.raises(ImportDataError, match="not a readable JSON"):
        tau_bench.load_runs(bad)
    bad.write_text(json.dumps({"a": 1}))
    with pytest.raises(ImportDataError, match="JSON array"):
        tau_bench.load_runs(bad)
    bad.write_text(json.dumps([{"task_id": 1}]))
    with pytest.raises(ImportDataError, match="episode 0 lacks"):
        tau_bench.load_runs(bad)


def test_spans_follow_the_contract_and_carry_no_text(tmp_path: Path) -> None:
    traj = [_call("get_user_details"), _result("get_user_details", "secret user data"),
            _call("think", arguments=json.dumps({"thought": "private reasoning"})), _result("think", ""),
            _call("cancel_reservation"), _result("cancel_reservation", "Error: not allowed")]
    path = tmp_path / "gpt-4o-airline.json"
    path.write_text(json.dumps([_episode(traj)]))
    runs = tau_bench.load_runs(path)
    memory = InMemorySpanExporter()
    summary = export_runs(runs, memory, service_name="test-import")
    spans = memory.get_finished_spans()
    assert summary.spans == len(spans) == 1 + 3 + 2 + 1
    assert summary.failed_spans == 0
    by_name = {s.name: s for s in spans}
    root = by_name["invoke_agent tau-bench-airline"]
    assert root.parent is None
    assert format(root.context.trace_id, "032x") == runs[0].trace_id
    assert root.attributes[sc.OTEL_META_OUTCOME] == sc.OUTCOME_SUCCESS
    assert root.attributes[sc.GEN_AI_AGENT_NAME] == "tau-bench-airline"
    failed = by_name["execute_tool cancel_reservation"]
    assert failed.attributes[sc.ERROR_TYPE] == "ToolError"
    assert failed.status.status_code.name == "ERROR"
    think = by_name["think tau-bench-airline"]
    assert think.attributes[sc.OTEL_META_THINKING_CHARS] == len("private reasoning")
    assert all(s.parent is not None and s.parent.span_id == root.context.span_id for s in spans if s is not root)
    dumped = json.dumps([dict(s.attributes) for s in spans])
    assert "secret" not in dumped and "private" not in dumped and "not allowed" not in dumped


@requires_datasets
def test_published_file_maps_to_the_readme_counts() -> None:
    runs = tau_bench.load_runs(dataset(TAU_BENCH_AIRLINE))
    assert len(runs) == 200
    assert sum(r.outcome is True for r in runs) == 84
    kinds = Counter(s.kind for r in runs for s in r.steps)
    assert kinds == {"llm": 2454, "tool": 1164 - 92, "thinking": 92}
    assert sum(not s.ok for r in runs for s in r.steps) == 73
    tools = Counter(s.name for r in runs for s in r.steps if s.kind == "tool")
    assert len(tools) == 13  # 14 distinct tools, of which think is the thinking step
    assert tools["get_reservation_details"] == 377
    assert sum(not any(s.kind == "tool" for s in r.steps) for r in runs) == 18  # the README: 18 runs have no tool call
    assert len({r.trace_id for r in runs}) == 200
    assert {r.agent for r in runs} == {"tau-bench-airline"}
