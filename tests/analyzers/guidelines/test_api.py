"""The prompts REST routes, served by the real AnalyzerServer on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from analyzers.api.context import ServiceContext
from analyzers.guidelines import GuidelineWriter, PromptsRepo
from analyzers.receiver.server import AnalyzerServer
from analyzers.store.sqlite import SqliteStore
from tests.analyzers.guidelines.prompts_repo import make_pattern
from tests.analyzers.guidelines.traces import outcome_runs, record_runs


@pytest.fixture
def base_url(repo: PromptsRepo, tmp_path: Path) -> Iterator[str]:
    GuidelineWriter(repo).write("diagnosis", [make_pattern()])
    with SqliteStore(tmp_path / "api.db", synchronous="NORMAL") as store:
        record_runs(store, "diagnosis", outcome_runs(8, 2, "1.0.0") + outcome_runs(3, 7, "1.0.1"))
        server = AnalyzerServer(
            store, grpc_port=None, context=ServiceContext(store=store, prompts_repo=repo.path)
        )
        server.start()
        try:
            host, port = server.http_address
            yield f"http://{host}:{port}"
        finally:
            server.stop()


def test_prompts_routes(base_url: str, repo: PromptsRepo) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        listing = client.get("/api/prompts")
        assert listing.status_code == 200
        assert listing.json() == [
            {"agent": "diagnosis", "version": "1.0.1", "guidelines": 1, "commit": repo.head()}
        ]
        current = client.get("/api/prompts/diagnosis").json()
        assert current["version"] == "1.0.1" and current["text"] == repo.require("diagnosis").render()
        history = client.get("/api/prompts/diagnosis/history").json()
        assert [(h["version"], h["patterns_applied"]) for h in history] == [
            ("1.0.0", []),
            ("1.0.1", ["sp-1"]),
        ]
        compare = client.get("/api/prompts/diagnosis/compare").json()
        assert [(v["version"], v["runs"], v["successes"]) for v in compare["versions"]] == [
            ("1.0.0", 10, 8),
            ("1.0.1", 10, 3),
        ]
        assert compare["differences"][0]["test"] == "Fisher's exact test (two-sided)"
        bad = client.get("/api/prompts/Bad%20Name")
        assert bad.status_code == 400 and "is not allowed" in bad.json()["error"]
        missing = client.get("/api/prompts/nobody/history")
        assert missing.status_code == 404 and "no history" in missing.json()["error"]


def test_prompts_routes_without_a_repo(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "api.db", synchronous="NORMAL") as store:
        server = AnalyzerServer(store, grpc_port=None).start()
        try:
            host, port = server.http_address
            response = httpx.get(f"http://{host}:{port}/api/prompts", timeout=10)
        finally:
            server.stop()
    assert response.status_code == 404 and "no prompts repo" in response.json()["error"]
