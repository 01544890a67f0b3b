from __future__ import annotations

import json
import os
import signal
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
        assert set(history[-1]) == {"agent_type", "version", "patterns_applied", "commit", "date"}


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


@pytest.mark.slow
def test_continuous_loop_exits_zero_on_sigterm(tmp_path: Path) -> None:
    config = _config(tmp_path, learning_interval=3600)
    script = (
        "import sys\n"
        "from analyzers import MetaAgent, MetaAgentConfig\n"
        "agent = MetaAgent(MetaAgentConfig.load(sys.argv[1]), embedded=False)\n"
        "n = agent.run_continuous_learning()\n"
        "agent.close()\n"
        "print('stopped after', n, 'cycles', flush=True)\n"
    )
    cfg_file = tmp_path / "meta.yaml"
    cfg_file.write_text(f"db: {config.db}\nprompts_repo: {config.prompts_repo}\nlearning_interval: 3600\n")
    proc = subprocess.Popen([sys.executable, "-c", script, str(cfg_file)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    state = config.resolved_state_file()
    deadline = time.monotonic() + 60
    while not state.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state.exists(), proc.stderr.read() if proc.poll() is not None else "no state file"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.strip() == "stopped after 1 cycles"


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
