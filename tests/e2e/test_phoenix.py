"""Shipping to an existing backend, for real: one agent process, two destinations, no collector.

Arize Phoenix runs from its own venv (``.venv-phoenix``, made by ``make test-deps``, which ``make test``
runs first) on 127.0.0.1 with its working directory in ``tmp_path``; the analyzer runs in-process
(``AnalyzerServer`` + ``SqliteStore``). The agent (``tests/e2e/agent_process.py``, instrumented by
``import otel_meta.auto``) exports to Phoenix through the standard ``OTEL_EXPORTER_OTLP_*`` settings and
to the analyzer through ``OTEL_META_ANALYZER_ENDPOINT``. The test then reads the spans back through
Phoenix's REST API (``GET /v1/projects/{project}/spans``) and the runs through the analyzer's
``GET /api/runs``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from analyzers.receiver.server import AnalyzerServer
from analyzers.store.sqlite import SqliteStore
from otel_meta import semconv

REPO = Path(__file__).resolve().parents[2]
PHOENIX = REPO / ".venv-phoenix" / "bin" / "phoenix"
PROJECT = "otel-meta-e2e"
AGENT_SPAN = f"{semconv.OP_INVOKE_AGENT} hotel-sre"
EPISODES = 12
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(probe: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.25) -> T:
    """Poll ``probe`` until it returns something truthy, for at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = probe()
        except (httpx.HTTPError, OSError) as exc:
            last = exc
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
        time.sleep(interval)


@pytest.fixture
def phoenix(tmp_path: Path) -> Iterator[str]:
    if not PHOENIX.exists():
        pytest.skip(f"{PHOENIX} is absent: `make test-deps` (run by `make test`) creates it (arize-phoenix)")
    port, grpc_port = free_port(), free_port()
    workdir = tmp_path / "phoenix"
    workdir.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(grpc_port),
        "PHOENIX_WORKING_DIR": str(workdir),
        "PHOENIX_TELEMETRY_ENABLED": "false",
    }
    log = (tmp_path / "phoenix.log").open("wb")
    proc = subprocess.Popen([str(PHOENIX), "serve"], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        def healthy() -> bool:
            _raise_if_exited(proc, tmp_path)
            return httpx.get(f"{base}/healthz", timeout=2).status_code == 200

        wait_for(healthy, timeout=150, what="Phoenix /healthz")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def _raise_if_exited(proc: subprocess.Popen[bytes], tmp_path: Path) -> None:
    if proc.poll() is not None:
        tail = (tmp_path / "phoenix.log").read_text(errors="replace")[-3000:]
        raise AssertionError(f"phoenix serve exited with {proc.returncode}:\n{tail}")


def phoenix_spans(base: str, **params: Any) -> list[dict[str, Any]]:
    """Every span of the project matching ``params``, following Phoenix's cursor pagination."""
    spans: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": 1000, **params, **({"cursor": cursor} if cursor else {})}
        reply = httpx.get(f"{base}/v1/projects/{PROJECT}/spans", params=query, timeout=10)
        if reply.status_code == 404:  # the project appears with its first span
            return []
        reply.raise_for_status()
        body = reply.json()
        spans.extend(body["data"])
        cursor = body.get("next_cursor")
        if not cursor:
            return spans


@pytest.mark.slow
def test_agent_spans_reach_phoenix_and_the_analyzer(phoenix: str, tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "analyzer.db")
    server = AnalyzerServer(store, grpc_port=None)
    server.start()
    try:
        env = dict(
            os.environ,
            OTEL_SERVICE_NAME="hotel-sre-agent",
            OTEL_RESOURCE_ATTRIBUTES=f"openinference.project.name={PROJECT}",
            OTEL_EXPORTER_OTLP_ENDPOINT=phoenix,
            OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
            OTEL_META_ANALYZER_ENDPOINT=server.base_url,
            OTEL_TRACES_SAMPLER="always_on",
        )
        env.pop("OTEL_SDK_DISABLED", None)
        agent = subprocess.run(
            [sys.executable, "-m", "tests.e2e.agent_process", "--episodes", str(EPISODES), "--seed", "5"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
        )
        assert agent.returncode == 0, agent.stderr[-3000:]
        summary = json.loads(agent.stdout.strip().splitlines()[-1])
        assert summary == {"episodes": EPISODES, "successes": summary["successes"], "flushed": True}

        # Phoenix: the agent runs as root spans, with their tool and thinking children, read back via its API.
        def all_roots() -> list[dict[str, Any]] | None:
            spans = phoenix_spans(phoenix, name=AGENT_SPAN)
            return spans if len(spans) == EPISODES else None

        roots = wait_for(all_roots, timeout=60, what=f"{EPISODES} agent spans in Phoenix")
        phoenix_traces = {s["context"]["trace_id"] for s in roots}
        assert all(s["parent_id"] is None for s in roots)
        assert all(s["attributes"][semconv.GEN_AI_AGENT_NAME] == "hotel-sre" for s in roots)
        outcomes = [s["attributes"][semconv.OTEL_META_OUTCOME] for s in roots]
        assert outcomes.count(semconv.OUTCOME_SUCCESS) == summary["successes"]
        everything = phoenix_spans(phoenix)
        tools = [s for s in everything if s["attributes"].get(semconv.GEN_AI_OPERATION_NAME) == semconv.OP_EXECUTE_TOOL]
        assert tools and {s["context"]["trace_id"] for s in tools} <= phoenix_traces
        assert {s["attributes"][semconv.GEN_AI_TOOL_NAME] for s in tools} >= {"get_pods"}

        # The analyzer: the same traces, assembled into runs with the same outcomes.
        def all_runs() -> list[dict[str, Any]] | None:
            reply = httpx.get(f"{server.base_url}/api/runs", params={"agent": "hotel-sre"}, timeout=5)
            reply.raise_for_status()
            found = [r for r in reply.json() if r["outcome"] is not None]
            return found if len(found) == EPISODES else None

        runs = wait_for(all_runs, timeout=30, what=f"{EPISODES} runs with outcomes in the analyzer")
        assert {r["trace_id"] for r in runs} == phoenix_traces
        assert sum(r["outcome"] == "success" for r in runs) == summary["successes"]
        tool_steps = sum(1 for r in runs for step in r["steps"] if step["kind"] == "tool")
        assert tool_steps == len(tools), "both destinations received every tool call"
    finally:
        server.stop()
        store.close()
