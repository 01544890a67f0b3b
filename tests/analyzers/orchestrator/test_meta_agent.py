from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider

import otel_meta
from analyzers import MetaAgent, MetaAgentConfig
from analyzers.errors import StateFileError
from analyzers.store.sqlite import SqliteStore
from otel_meta import _runtime
from tests.analyzers.guidelines.traces import planted_runs, record_runs

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture()
def provider() -> Iterator[TracerProvider]:
    p = TracerProvider()
    otel_meta.instrument(tracer_provider=p)
    yield p
    otel_meta.uninstrument()
    p.shutdown()


def _config(tmp_path: Path, **kw: object) -> MetaAgentConfig:
    return MetaAgentConfig(db=str(tmp_path / "store.db"), prompts_repo=str(tmp_path / "prompts"),
                           min_traces_for_analysis=6, **kw)  # type: ignore[arg-type]


def _record(agent: MetaAgent, n: int, prefix: str = "t") -> None:
    for i in range(n):
        tid, ok = f"{prefix}{i}", i % 2 == 0
        agent.collect_agent_trace(tid, otel_meta.AgentType.DIAGNOSIS,
                                  otel_meta.ProblemContext(problem_id=f"p{i}", app_name="hotel"))
        agent.add_thinking_step(tid, "check the pods first", tool_choice="get_pods")
        agent.add_tool_call(tid, "get_pods", {"namespace": "hotel"}, True, "5 pods", 0.1)
        if ok:
            agent.add_tool_call(tid, "get_logs", {}, True, "db timeout", 0.2)
        else:
            agent.add_tool_call(tid, "get_metrics", {}, False, "error", 0.2)
            agent.add_tool_call(tid, "get_metrics", {}, False, "error", 0.2)
        agent.end_agent_trace(tid, ok, "root cause found" if ok else None)


def test_embedded_meta_agent_learns_from_the_runs_it_recorded(tmp_path: Path, provider: TracerProvider) -> None:
    with MetaAgent(_config(tmp_path), tracer_provider=provider) as agent:
        _record(agent, 16)
        status = agent.get_learning_status()  # flushes the recorded spans into the store first
        assert status == {"learning_cycles": 0, "total_patterns_learned": 0, "last_learning_time": None,
                          "ready_for_learning": True, "runs_since_last_cycle": 16}
        result = agent.start_learning_cycle()
        assert result["cycle"] == 1 and result["runs_analysed"] == {"diagnosis": 16}
        assert result["patterns_found"]["diagnosis"] >= 2 and result["skipped"] == {}
        assert {g["pattern_type"] for g in result["guidelines_applied"]} >= {"success_pattern", "failure_pattern"}
        (commit,) = result["commits"]
        assert commit["agent"] == "diagnosis" and commit["tag"] == f"diagnosis/v{commit['version']}"
        assert result["assessments"]["diagnosis"]["assessed"] == 16
        assert agent.store.get_assessment("t1") is not None  # judged runs are stored by request id

        status = agent.get_learning_status()
        assert status["learning_cycles"] == 1 and status["last_learning_time"] is not None
        assert status["total_patterns_learned"] == len(result["guidelines_applied"])
        summary = agent.get_pattern_summary()
        assert summary["total_patterns"] >= 2 and summary["by_agent"] == {"diagnosis": summary["total_patterns"]}
        assert summary["high_confidence_patterns"] <= summary["total_patterns"]
        history = agent.get_guideline_history()
        assert history[-1]["version"] == commit["version"] and history[-1]["commit"] == commit["commit"]
        assert set(history[-1]["patterns_applied"]) == {g["pattern_id"] for g in result["guidelines_applied"]}
        assert set(history[-1]) == {"agent_type", "version", "patterns_applied", "commit", "date", "state", "why"}
        assert history[-1]["state"] == "candidate"


@pytest.fixture()
def no_active_prompt() -> Iterator[None]:
    """``load_prompt`` stamps a process-wide prompt version: forget it after the test."""
    yield
    _runtime.STATE.prompts.clear()
    _runtime._context_prompts.set(None)


def test_cycle_flushes_first_reports_skips_retirements_and_versions(
    tmp_path: Path, provider: TracerProvider, no_active_prompt: None
) -> None:
    config = dataclasses.replace(_config(tmp_path), candidate_fraction=0.0)  # each version stable at once
    with MetaAgent(config, tracer_provider=provider) as agent:
        _record(agent, 12)
        for i in range(2):  # a plain string names an agent as well as AgentType does
            agent.collect_agent_trace(f"m{i}", "mitigation")
            agent.add_tool_call(f"m{i}", "scale_up", {}, True, "ok", 0.1)
            agent.end_agent_trace(f"m{i}", True)
        first = agent.start_learning_cycle()  # nothing read the store before: the cycle flushes itself
        assert {"cycle", "runs_analysed", "patterns_found", "guidelines_applied", "guidelines_retired",
                "commits", "skipped"} <= set(first)
        assert first["runs_analysed"] == {"diagnosis": 12}
        assert first["skipped"] == {"mitigation": "2 runs with a known outcome, fewer than 6"}
        assert first["guidelines_applied"] and first["guidelines_retired"] == []
        # runs recorded under a loaded prompt carry its version into the performance history
        prompt = otel_meta.load_prompt("diagnosis", repo=config.prompts_repo)
        assert prompt.version == first["commits"][0]["version"] == "1.0.1"
        _record(agent, 6, prefix="v")

    # a stricter threshold: the guidelines below it are retired, in one new version
    with MetaAgent(dataclasses.replace(config, confidence_threshold=1.0), embedded=False) as again:
        second = again.start_learning_cycle()
        assert second["cycle"] == 2
        assert all(g["confidence"] >= 1.0 for g in second["guidelines_applied"])
        retired = {g["pattern_id"] for g in second["guidelines_retired"]}
        assert retired and retired <= {g["pattern_id"] for g in first["guidelines_applied"]}
        assert {g["reason"] for g in second["guidelines_retired"]} == {"below threshold 1.00"}
        assert [(c["agent"], c["version"]) for c in second["commits"]] == [("diagnosis", "1.0.2")]
        summary = again.get_pattern_summary()
        assert set(summary) == {"total_patterns", "high_confidence_patterns", "by_type", "by_agent"}
        assert sum(summary["by_type"].values()) == summary["total_patterns"] >= 2
        assert summary["high_confidence_patterns"] < summary["total_patterns"]
        last = again.get_guideline_history()[-1]
        assert last["version"] == "1.0.2" and not set(last["patterns_applied"]) & retired
    perf = json.loads(config.resolved_state_file().read_text())["performance_history"]
    by_key = {(p["cycle"], p["agent"], p["prompt_version"]): (p["runs"], p["success_rate"]) for p in perf}
    assert by_key[(1, "diagnosis", None)] == (12, 0.5)
    assert by_key[(2, "diagnosis", None)] == (12, 0.5) and by_key[(2, "diagnosis", "1.0.1")] == (6, 0.5)
    assert (2, "mitigation", None) in by_key


_EMBEDDED_SCRIPT = """
import json, sys
import otel_meta
from opentelemetry import trace
from analyzers import MetaAgent, MetaAgentConfig

config = MetaAgentConfig(db=sys.argv[1], prompts_repo=sys.argv[2], min_traces_for_analysis=4)
with MetaAgent(config) as agent:  # no TracerProvider, no server in this process
    for i in range(8):
        name = otel_meta.AgentType.LOCALIZATION if i % 2 else "localization"
        agent.collect_agent_trace(f"r{i}", name)
        agent.add_tool_call(f"r{i}", "get_traces" if i % 2 else "get_logs", {}, bool(i % 2), "x", 0.1)
        agent.end_agent_trace(f"r{i}", bool(i % 2))
    result = agent.start_learning_cycle()
print(json.dumps({"runs": result["runs_analysed"], "commits": len(result["commits"]),
                  "global_provider": type(trace.get_tracer_provider()).__name__}))
"""


def test_embedded_mode_without_any_provider_stores_the_recorded_runs(tmp_path: Path) -> None:
    db, repo = tmp_path / "emb.db", tmp_path / "prompts"
    proc = subprocess.run([sys.executable, "-c", _EMBEDDED_SCRIPT, str(db), str(repo)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, PYTHONPATH=str(ROOT), OTEL_TRACES_EXPORTER="none"))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["runs"] == {"localization": 8} and out["commits"] == 1
    assert out["global_provider"] == "ProxyTracerProvider"  # the MetaAgent did not take over the global one
    with SqliteStore(db) as store:
        runs = list(store.iter_runs("localization"))
    outcomes = [r.outcome for r in runs]
    assert (len(outcomes), outcomes.count(True), outcomes.count(False)) == (8, 4, 4)
    assert {s.name for r in runs for s in r.steps if s.kind == "tool"} == {"get_traces", "get_logs"}


def test_state_survives_a_restart(tmp_path: Path, provider: TracerProvider) -> None:
    config = _config(tmp_path)
    with MetaAgent(config, tracer_provider=provider) as agent:
        _record(agent, 8)
        first = agent.start_learning_cycle()
    saved = json.loads(config.resolved_state_file().read_text())
    assert set(saved) == {"config", "learning_state", "performance_history"}
    assert saved["config"]["min_traces_for_analysis"] == 6
    (perf,) = saved["performance_history"]
    assert (perf["cycle"], perf["agent"], perf["runs"], perf["success_rate"]) == (1, "diagnosis", 8, 0.5)

    with MetaAgent(config, tracer_provider=provider) as again:
        assert again.get_learning_status()["learning_cycles"] == 1
        assert again.state.patterns_learned == tuple(sorted(g["pattern_id"] for g in first["guidelines_applied"]))
        second = again.start_learning_cycle()
        assert second["cycle"] == 2
    other = MetaAgent(_config(tmp_path / "other"), embedded=False)
    other.load_state(config.resolved_state_file())
    assert other.state.learning_cycles == 2 and len(other.state.performance_history) == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(StateFileError, match="no learning_state"):
        other.load_state(bad)
    other.close()


def test_continuous_loop_stops_cleanly_after_the_current_cycle(tmp_path: Path) -> None:
    agent = MetaAgent(_config(tmp_path, learning_interval=3600), embedded=False)
    results: list[int] = []
    thread = threading.Thread(target=lambda: results.append(agent.run_continuous_learning()))
    thread.start()
    deadline = time.monotonic() + 30
    while agent.state.learning_cycles < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert agent.state.learning_cycles == 1
    agent.stop()
    thread.join(timeout=10)
    assert not thread.is_alive() and results == [1]
    assert agent.state.last_cycle["skipped"] == {}  # no runs: no agent to skip
    agent.close()


_LOOP_SCRIPT = """
import logging, os, signal, sys
from analyzers import MetaAgent, MetaAgentConfig

class SignalMidCycle(logging.Handler):
    # the cycle logs this line after its commit and before the state is saved: the signal lands mid-cycle
    def emit(self, record):
        if record.getMessage().startswith("diagnosis: 20 runs"):
            os.kill(os.getpid(), getattr(signal, sys.argv[2]))

cycle_log = logging.getLogger("analyzers.orchestrator.cycle")
cycle_log.setLevel(logging.INFO)
cycle_log.addHandler(SignalMidCycle())
agent = MetaAgent(MetaAgentConfig.load(sys.argv[1]), embedded=False)
n = agent.run_continuous_learning()
agent.close()
print("stopped after", n, "cycles", flush=True)
"""


@pytest.mark.slow
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_continuous_loop_finishes_the_cycle_in_progress_on_sigterm_and_ctrl_c(tmp_path: Path, signame: str) -> None:
    config = _config(tmp_path, learning_interval=3600)
    with SqliteStore(config.db, synchronous="NORMAL") as store:
        record_runs(store, "diagnosis", planted_runs(20))
    cfg_file = tmp_path / "meta.yaml"
    cfg_file.write_text(f"db: {config.db}\nprompts_repo: {config.prompts_repo}\nlearning_interval: 3600\n"
                        "min_traces_for_analysis: 6\nassessments_per_cycle: 0\n")
    proc = subprocess.run([sys.executable, "-c", _LOOP_SCRIPT, str(cfg_file), signame], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "stopped after 1 cycles"
    # the cycle the signal interrupted was completed: its state was saved after the signal arrived
    saved = json.loads(config.resolved_state_file().read_text())
    assert saved["learning_state"]["learning_cycles"] == 1
    assert saved["learning_state"]["last_cycle"]["commits"][0]["version"] == "1.0.1"


def test_config_from_yaml_env_and_state_file_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg_file = tmp_path / "meta.yaml"
    cfg_file.write_text("meta_agent:\n  learning_interval: 60\n  min_traces_for_analysis: 3\n"
                        "  enable_auto_updates: false\n  agents: [diagnosis]\n")
    monkeypatch.setenv("META_AGENT_CONFIG_FILE", str(cfg_file))
    monkeypatch.setenv("META_AGENT_STATE_FILE", str(tmp_path / "s.json"))
    config = MetaAgentConfig.load(db=str(tmp_path / "x.db"))
    assert (config.learning_interval, config.min_traces_for_analysis, config.enable_auto_updates) == (60, 3, False)
    assert config.agents == ("diagnosis",) and config.db == str(tmp_path / "x.db")
    assert config.confidence_threshold == 0.7 and config.backup_original_prompts is True
    assert config.resolved_state_file() == tmp_path / "s.json"
    cfg_file.write_text("learning_intervall: 5\n")
    with pytest.raises(ValueError, match="unknown setting.*learning_intervall.*known: agents"):
        MetaAgentConfig.load()
    with pytest.raises(ValueError, match="replan_threshold"):
        MetaAgentConfig(replan_threshold=0.8, deepen_threshold=0.6)


def test_failed_cycle_is_logged_and_the_loop_goes_on(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    agent = MetaAgent(_config(tmp_path), embedded=False)
    (Path(agent.config.prompts_repo) / "stray.txt").write_text("uncommitted")
    assert agent.run_continuous_learning(max_cycles=1) == 1
    assert agent.state.learning_cycles == 0
    assert any("learning cycle failed" in r.message for r in caplog.records)
    agent.close()
