"""``otel-meta serve`` takes every setting from one place: flags > config file > environment > defaults."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.analyzers.cli.console import OTEL_META, one_error_line, otel_meta


def _serve(*argv: str | Path, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([str(OTEL_META), "serve", *map(str, argv)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, **(env or {})))
    assert proc.stdout is not None and proc.stderr is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("otel-meta: listening http="):
        proc.kill()
        raise AssertionError(line + proc.communicate(timeout=30)[1])
    return proc, line


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return err


@pytest.mark.slow
def test_the_config_file_alone_drives_serve(tmp_path: Path) -> None:
    db, repo = tmp_path / "file.db", tmp_path / "prompts"
    config = tmp_path / "meta.yaml"
    config.write_text(f"meta_agent:\n  db: {db}\n  prompts_repo: {repo}\n  learning_interval: 3600\n"
                      "  replan_threshold: 0.5\nserve:\n  http_port: 0\n  grpc_port: 0\n  token: s3cret\n")
    proc, line = _serve("--config", config)
    try:
        assert line.endswith(f"db={db}")
        base = "http://" + line.split("http=")[1].split()[0]
        state = tmp_path / "file.state.json"  # the learning loop ran at start: learning_interval is set
        deadline = time.monotonic() + 30
        while not state.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert json.loads(state.read_text())["learning_state"]["learning_cycles"] == 1
        assert (repo / ".git").is_dir()  # the learning loop created the prompts repo it was given
        assert httpx.get(f"{base}/api/runs", timeout=10).status_code == 401  # serve.token from the file
        reply = httpx.get(f"{base}/api/agents/meta-agent", headers={"Authorization": "Bearer s3cret"}, timeout=10)
        assert reply.json()["config"]["replanThreshold"] == 0.5
    finally:
        _stop(proc)


@pytest.mark.slow
def test_flags_win_over_the_file_and_the_file_over_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "meta.yaml"
    config.write_text(f"db: {tmp_path / 'file.db'}\nprompts_repo: {tmp_path / 'prompts'}\n"
                      "judge_model: from-file\njudge_base_url: http://127.0.0.1:9/v1\n")
    env = {"META_AGENT_CONFIG_FILE": str(config), "OTEL_META_JUDGE_MODEL": "from-env",
           "OTEL_META_JUDGE_BASE_URL": "http://127.0.0.1:9/v1"}
    flag_db = tmp_path / "flag.db"
    proc, line = _serve("--db", flag_db, "--http-port", "0", "--grpc-port", "0", "--learn-every", "3600",
                        env=env)
    try:
        assert line.endswith(f"db={flag_db}") and not (tmp_path / "file.db").exists()
        base = "http://" + line.split("http=")[1].split()[0]
        judge = httpx.get(f"{base}/api/agents/meta-agent", timeout=10).json()["config"]
        assert judge["model"] == "from-file" and judge["mode"] == "llm"
    finally:
        _stop(proc)
    # the file's prompts_repo satisfied --learn-every
    assert (tmp_path / "prompts" / ".git").is_dir()


def test_serve_says_where_a_store_can_come_from(tmp_path: Path) -> None:
    line = one_error_line(otel_meta("serve", env={"META_AGENT_CONFIG_FILE": ""}), "serve")
    assert "no store: give --db PATH or db: in a config file (--config FILE)" in line
    config = tmp_path / "meta.yaml"
    config.write_text("learning_interval: 60\n")
    line = one_error_line(otel_meta("serve", "--config", config), "serve")
    assert f"or db: in {config}" in line
    line = one_error_line(otel_meta("serve", "--config", config, "--db", tmp_path / "s.db"), "serve")
    assert f"--learn-every needs --prompts-repo DIR or prompts_repo: in {config}" in line


@pytest.mark.parametrize(("text", "reason"), [
    ("serve:\n  http_prot: 1\n", "unknown serve setting(s) http_prot; known: host, http_port"),
    ("serve:\n  http_port: '4318'\n", "serve.http_port must be int, got '4318'"),
    ("meta_agent: {}\nextra: 1\n", "unknown section(s) extra; known: meta_agent, serve"),
    ("[1, 2]\n", "must be a mapping of settings, got list"),
])
def test_a_bad_config_file_is_one_line(tmp_path: Path, text: str, reason: str) -> None:
    config = tmp_path / "meta.yaml"
    config.write_text(text)
    line = one_error_line(otel_meta("serve", "--config", config, "--db", tmp_path / "s.db"), "serve")
    assert reason in line and str(config) in line
