from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from analyzers.cli import main
from analyzers.importers import ImportedRun, ImportedStep, export_runs
from analyzers.mining import group_findings, mine_patterns, mine_store
from analyzers.mining.synthetic import SUCCESS_SEQUENCE, planted_runs
from analyzers.receiver.server import AnalyzerServer
from analyzers.store.exporter import StoreSpanExporter
from analyzers.store.sqlite import SqliteStore

AGENT = "planted-agent"


def _imported(n: int, seed: int) -> list[ImportedRun]:
    out = []
    for run in planted_runs(n, seed, agent=AGENT):
        clock = run.started_at_unix_nano
        steps = []
        for s in run.steps:
            end = clock + int(s.duration_ms * 1e6)
            steps.append(ImportedStep(s.kind, s.name, s.ok, clock, end, s.error_type, s.chars))
            clock = end
        out.append(ImportedRun(f"{AGENT}/{run.trace_id}", AGENT, run.trace_id, run.outcome,
                               run.started_at_unix_nano, clock, tuple(steps)))
    return out


@pytest.fixture(scope="module")
def planted_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("patterns") / "store.db"
    with SqliteStore(path) as store:
        summary = export_runs(_imported(300, 8), StoreSpanExporter(store), service_name="test")
    assert summary.failed_spans == 0
    return path


def test_patterns_command_prints_json_list_of_mined_patterns(planted_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["patterns", "--db", str(planted_db), "--agent", AGENT, "--min-confidence", "0.7", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed and all(p["confidence"] >= 0.7 and p["agent"] == AGENT for p in printed)
    assert list(SUCCESS_SEQUENCE) in [p["tools"] for p in printed if p["type"] == "success_pattern"]
    with SqliteStore(planted_db) as store:
        findings = group_findings(mine_store(store, AGENT, min_confidence=0.7))
    # One finding after another, each pattern naming its finding's lead.
    assert printed == [dict(p.to_json(), finding=f.lead.id) for f in findings for p in f.patterns]
    assert len({p["finding"] for p in printed}) == len(findings) < len(printed)
    # The runs assembled from the stored spans mine like the runs themselves.
    direct = [p.to_json() for p in mine_patterns([r.to_run() for r in _imported(300, 8)], AGENT)]
    assert sorted((p["id"], p["frequency"]) for p in printed) == sorted(
        (p["id"], p["frequency"]) for p in direct if p["confidence"] >= 0.7
    )


def test_patterns_command_table_and_errors(planted_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["patterns", "--db", str(planted_db)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("  CONF  EFFECT [90% interval]   SCOPE       TYPE / KIND") and " -> ".join(SUCCESS_SEQUENCE) in out
    # the flaky tool's call failures and the runs with a failed call of it are one finding
    assert "  also failure_pattern / failed_call" in out and out.count("flaky_api is unreliable") == 1
    assert main(["patterns", "--db", str(planted_db), "--agent", "nobody"]) == 2
    assert "no runs of agent 'nobody'" in capsys.readouterr().err
    assert main(["patterns", "--db", str(tmp_path / "none.db")]) == 2
    assert "no store at" in capsys.readouterr().err
    assert main(["patterns", "--db", str(planted_db), "--min-confidence", "1.5"]) == 2


def test_rest_patterns_route_returns_the_same_list(planted_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["patterns", "--db", str(planted_db), "--agent", AGENT, "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    with SqliteStore(planted_db) as store, AnalyzerServer(store, grpc_port=None) as server:
        host, port = server.http_address
        base = f"http://{host}:{port}"
        got = httpx.get(f"{base}/api/patterns", params={"agent": AGENT}, timeout=30)
        assert got.status_code == 200
        assert got.json() == cli
        assert httpx.get(f"{base}/api/patterns", params={"agent": "nobody"}, timeout=30).status_code == 404
        bad = httpx.get(f"{base}/api/patterns", params={"min_confidence": "x"}, timeout=30)
        assert bad.status_code == 400 and "min_confidence" in bad.json()["error"]
        high = httpx.get(f"{base}/api/patterns", params={"agent": AGENT, "min_confidence": "0.99"}, timeout=30)
        assert all(p["confidence"] >= 0.99 for p in high.json())
