from __future__ import annotations

import time
from pathlib import Path

import pytest

from analyzers.cli import main
from analyzers.importers import mini_swe_agent, tau_bench
from analyzers.receiver.server import AnalyzerServer
from analyzers.store.sqlite import SqliteStore
from tests.support.datasets import MINI_SWE_AGENT, TAU_BENCH_AIRLINE, dataset, requires_datasets


def _steps(run: object) -> list[tuple[str, str, bool]]:
    return [(s.kind, s.name, s.ok) for s in run.steps]  # type: ignore[attr-defined]


@requires_datasets
def test_import_tau_bench_into_a_store_assembles_the_same_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "store.db"
    path = dataset(TAU_BENCH_AIRLINE)
    assert main(["import", "tau-bench", str(path), "--db", str(db)]) == 0
    assert "imported 200 runs of tau-bench-airline (84 successes, 116 failures)" in capsys.readouterr().out
    expected = {r.trace_id: r.to_run() for r in tau_bench.load_runs(path)}
    with SqliteStore(db) as store:
        assert store.agents() == ["tau-bench-airline"]
        runs = list(store.iter_runs("tau-bench-airline"))
        assert len(runs) == 200
        assert sum(r.outcome is True for r in runs) == 84
        for run in runs:
            assert _steps(run) == _steps(expected[run.trace_id])
    # Importing again is idempotent: the ids derive from the episodes.
    assert main(["import", "tau-bench", str(path), "--db", str(db)]) == 0
    with SqliteStore(db) as store:
        assert store.count_runs("tau-bench-airline") == 200


def test_import_reports_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "tau-bench", str(tmp_path / "nope.json"), "--db", str(tmp_path / "s.db")]) == 2
    assert "no τ-bench file" in capsys.readouterr().err
    assert main(["import", "mini-swe-agent", str(tmp_path), "--endpoint", "127.0.0.1:1"]) == 2
    with pytest.raises(SystemExit):
        main(["import", "tau-bench", str(tmp_path / "x.json")])  # neither --endpoint nor --db


@requires_datasets
def test_import_to_a_closed_port_fails_loudly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tiny = tmp_path / "gpt-4o-airline.json"
    tiny.write_text('[{"task_id": 1, "trial": 0, "reward": 1.0, "traj": []}]')
    with SqliteStore(tmp_path / "s.db") as store, AnalyzerServer(store, grpc_port=None) as server:
        host, port = server.http_address
    # The server is stopped now: nothing listens on that port.
    code = main(["import", "tau-bench", str(tiny), "--endpoint", f"http://{host}:{port}", "--timeout", "1"])
    assert code == 1
    assert "spans were not accepted" in capsys.readouterr().err


@pytest.mark.slow
@requires_datasets
def test_import_mini_swe_agent_over_otlp_into_a_running_analyzer(tmp_path: Path) -> None:
    path = dataset(MINI_SWE_AGENT)
    expected = {r.trace_id: r.to_run() for r in mini_swe_agent.load_runs(path)}
    with SqliteStore(tmp_path / "store.db") as store, AnalyzerServer(store, grpc_port=None) as server:
        host, port = server.http_address
        assert main(["import", "mini-swe-agent", str(path), "--endpoint", f"http://{host}:{port}/"]) == 0
        deadline = time.monotonic() + 30
        while store.count_runs("mini-swe-agent") < 100 and time.monotonic() < deadline:
            time.sleep(0.05)
        runs = list(store.iter_runs("mini-swe-agent"))
    assert len(runs) == 100
    assert sum(r.outcome is True for r in runs) == 75
    for run in runs:
        assert _steps(run) == _steps(expected[run.trace_id])
        assert run.problem_id == expected[run.trace_id].problem_id
