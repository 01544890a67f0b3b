"""Runs from the spans of three third-party instrumentations, shipped over OTLP to a real server.

Each client runs in its own process (the instrumentations patch ``openai`` globally) and calls the
OpenAI-compatible loopback stand-in.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from analyzers.receiver.server import AnalyzerServer
from tests.analyzers.conventions import envs
from tests.support.openai_server import OpenAIStandIn

CLIENTS = Path(__file__).parent / "clients"
MODEL = "gpt-4o-mini-2024-07-18"




def run_client(python: Path | str, script: str, server: AnalyzerServer) -> str:
    with OpenAIStandIn() as openai_server:
        result = subprocess.run(
            [str(python), str(CLIENTS / script), server.base_url + "/v1/traces", openai_server.base_url],
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert len(openai_server.requests) >= 1
    assert result.returncode == 0, result.stderr[-3000:]
    assert server.await_runs()  # the client exited after its export's ack; its run is assembled after it
    return result.stdout.strip().splitlines()[-1]


def steps(run) -> list[tuple[str, str, bool, str | None]]:
    return [(s.kind, s.name, s.ok, s.error_type) for s in run.steps]


@pytest.mark.slow
def test_openai_v2_genai_conventions(analyzer):
    server, store = analyzer
    run = store.get_run(run_client(sys.executable, "openai_v2_agent.py", server))
    assert run is not None and run.complete and run.agent == "weather"
    assert steps(run) == [
        ("llm", MODEL, True, None),
        ("tool", "get_weather", True, None),
        ("tool", "get_forecast", False, "ForecastUnavailable"),
        ("llm", MODEL, True, None),
    ]


@pytest.mark.slow
def test_openinference_agent_tool_llm_spans(analyzer):
    server, store = analyzer
    run = store.get_run(run_client(sys.executable, "openinference_agent.py", server))
    assert run is not None and run.complete and run.agent == "researcher"
    assert steps(run) == [
        ("llm", MODEL, True, None),
        ("tool", "search_docs", True, None),
        ("tool", "fetch_page", False, "ConnectionError"),
    ]


@pytest.mark.slow
def test_traceloop_openllmetry_spans(analyzer):
    server, store = analyzer
    python = envs.ensure("traceloop")
    run = store.get_run(run_client(python, "traceloop_agent.py", server))
    assert run is not None and run.complete and run.agent == "support"
    assert steps(run) == [
        ("llm", MODEL, True, None),
        ("tool", "lookup_order", True, None),
        ("tool", "refund", False, "PermissionError"),
        ("llm", MODEL, True, None),  # inside the ``summarize`` task, which is no tool
    ]
