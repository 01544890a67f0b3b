from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider

import otel_meta
from analyzers import MetaAgent, MetaAgentConfig
from analyzers.cli import main

ROOT = Path(__file__).resolve().parents[3]


def _learned(tmp_path: Path) -> MetaAgentConfig:
    config = MetaAgentConfig(db=str(tmp_path / "s.db"), prompts_repo=str(tmp_path / "prompts"),
                             min_traces_for_analysis=4)
    provider = TracerProvider()
    otel_meta.instrument(tracer_provider=provider)
    try:
        with MetaAgent(config, tracer_provider=provider) as agent:
            for i in range(8):
                agent.collect_agent_trace(f"r{i}", "localization")
                agent.add_tool_call(f"r{i}", "get_traces" if i % 2 else "get_logs", success=bool(i % 2))
                agent.end_agent_trace(f"r{i}", bool(i % 2))
            agent.start_learning_cycle()
    finally:
        otel_meta.uninstrument()
        provider.shutdown()
    return config


def test_status_reports_cycles_versions_and_success_rates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _learned(tmp_path)
    assert main(["status", "--db", config.db, "--prompts-repo", config.prompts_repo, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["learning_status"]["learning_cycles"] == 1 and data["judge"] == "heuristic"
    (agent,) = data["agents"]
    assert agent["agent"] == "localization" and agent["runs"] == 8 and agent["prompt_version"]
    assert agent["performance"][0]["success_rate"] == 0.5
    assert main(["status", "--db", config.db, "--prompts-repo", config.prompts_repo]) == 0
    text = capsys.readouterr().out
    assert "learning cycles:        1" in text and "localization" in text and "50% of 8" in text
    assert main(["status", "--db", str(tmp_path / "none.db"), "--prompts-repo", config.prompts_repo]) == 2
    assert "no store" in capsys.readouterr().err


@pytest.mark.slow
def test_serve_learns_on_its_own_and_serves_the_judge(tmp_path: Path) -> None:
    db, repo = tmp_path / "svc.db", tmp_path / "prompts"
    proc = subprocess.Popen(
        [sys.executable, "-m", "analyzers", "serve", "--db", str(db), "--http-port", "0", "--grpc-port", "0",
         "--prompts-repo", str(repo), "--learn-every", "3600", "--replan-threshold", "0.5"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT), OTEL_META_JUDGE_MODEL="", OTEL_META_JUDGE_BASE_URL=""),
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        assert line.startswith("otel-meta: listening http="), line + (proc.stderr.read() if proc.poll() else "")
        base = "http://" + line.split("http=")[1].split()[0]
        state = db.with_name("svc.state.json")
        deadline = time.monotonic() + 30
        while not state.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert json.loads(state.read_text())["learning_state"]["learning_cycles"] == 1
        assert (repo / ".git").exists()
        r = httpx.post(f"{base}/api/agents/meta-agent",
                       json={"context": {"thoughts": "x" * 200}, "requestContext": {"requestId": "svc-1"}})
        assert r.status_code == 200 and r.json()["shouldReplan"] == (r.json()["reasoningQuality"] < 0.5)
        config = httpx.get(f"{base}/api/agents/meta-agent").json()["config"]
        assert config["replanThreshold"] == 0.5 and config["mode"] == "heuristic"
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err


def test_serve_learn_every_without_prompts_repo_is_a_clear_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "analyzers", "serve", "--db", str(tmp_path / "x.db"), "--http-port", "0",
         "--grpc-port", "0", "--learn-every", "60"],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=60,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert proc.returncode == 2 and "--learn-every needs --prompts-repo" in proc.stderr


def test_status_reads_the_config_file_named_by_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _learned(tmp_path)
    other_state = tmp_path / "elsewhere.state.json"
    cfg = tmp_path / "meta.yaml"
    cfg.write_text(f"meta_agent:\n  state_file: {other_state}\n  min_traces_for_analysis: 1\n")
    argv = ["status", "--db", config.db, "--prompts-repo", config.prompts_repo, "--json"]
    assert main([*argv, "--config", str(cfg)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["state_file"] == str(other_state) and data["learning_status"]["learning_cycles"] == 0
    assert data["learning_status"]["ready_for_learning"] is True  # 8 runs since "never", 1 needed
    cfg.write_text("learning_interval: -1\n")
    assert main([*argv, "--config", str(cfg)]) == 2
    assert "learning_interval must be positive" in capsys.readouterr().err


def _root_level(*argv: str, env_level: str) -> subprocess.CompletedProcess[str]:
    code = ("import logging, sys\nfrom analyzers.cli import main\n"
            "code = main(sys.argv[1:])\nprint(logging.getLevelName(logging.getLogger().level))\n"
            "sys.exit(code)\n")
    return subprocess.run([sys.executable, "-c", code, *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False,
                          env=dict(os.environ, PYTHONPATH=str(ROOT), META_AGENT_LOG_LEVEL=env_level))


def test_log_level_from_the_environment_the_flag_and_a_clear_error(tmp_path: Path) -> None:
    init = ("prompts", "init")
    assert _root_level(*init, str(tmp_path / "a"), env_level="warning").stdout.split()[-1] == "WARNING"
    flagged = _root_level("--log-level", "DEBUG", *init, str(tmp_path / "b"), env_level="warning")
    assert flagged.stdout.split()[-1] == "DEBUG"
    bad = _root_level(*init, str(tmp_path / "c"), env_level="loud")
    assert bad.returncode == 2
    assert "META_AGENT_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, got 'loud'" in bad.stderr
    bad_flag = _root_level("--log-level", "verbose", *init, str(tmp_path / "d"), env_level="")
    assert bad_flag.returncode == 2 and "--log-level must be one of" in bad_flag.stderr
    assert not (tmp_path / "c").exists() and not (tmp_path / "d").exists()
