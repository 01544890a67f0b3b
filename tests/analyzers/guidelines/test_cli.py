"""The learn/history/diff/rollback/compare/prompts commands, run in-process on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyzers.store.sqlite import SqliteStore
from tests.analyzers.guidelines.prompts_repo import git
from tests.analyzers.guidelines.traces import outcome_runs, planted_runs, record_runs
from tests.support.cli import cli


def test_cli_prompt_lifecycle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo, db = tmp_path / "prompts", tmp_path / "runs.db"
    base = tmp_path / "base.txt"
    base.write_text("You are an SRE agent.\n")
    with SqliteStore(db, synchronous="NORMAL") as store:
        record_runs(store, "diagnosis", planted_runs(30, version="1.0.0"))

    assert cli(capsys, "prompts", "init", str(repo))[0] == 0
    code, out, _ = cli(
        capsys, "prompts", "add-agent", str(repo), "diagnosis", "--base-prompt-file", str(base)
    )
    assert code == 0 and "added diagnosis v1.0.0" in out and "tag diagnosis/v1.0.0" in out
    code, out, _ = cli(capsys, "prompts", "list", str(repo), "--json")
    assert json.loads(out) == [{"agent": "diagnosis", "version": "1.0.0", "guidelines": 0}]

    code, out, err = cli(capsys, "learn", "--db", str(db), "--prompts-repo", str(repo))
    assert code == 0 and "diagnosis: mining 30 runs" in err
    commit = git(repo, "rev-parse", "main")
    assert "diagnosis: 30 runs, " in out and f"-> v1.0.1 commit {commit[:12]} diagnosis/v1.0.1" in out
    assert "  + success_pattern pat-" in out and "guideline text: templates" in out

    code, out, _ = cli(capsys, "history", "--prompts-repo", str(repo), "--agent", "diagnosis", "--json")
    history = json.loads(out)
    assert [h["version"] for h in history] == ["1.0.0", "1.0.1"]
    assert set(history[1]) == {"version", "commit", "date", "subject", "patterns_applied", "patterns_retired",
                               "state", "why"}
    assert [h["state"] for h in history] == ["stable", "candidate"]
    assert history[1]["commit"] == commit and history[1]["patterns_applied"]

    code, out, _ = cli(capsys, "diff", "--prompts-repo", str(repo), "--agent", "diagnosis", "1.0.0", "1.0.1")
    assert (
        code == 0
        and "+version: 1.0.1" in out
        and "+- text: Prefer get_pods -> get_logs -> check_services" in out
    )

    code, out, _ = cli(
        capsys, "rollback", "--prompts-repo", str(repo), "--agent", "diagnosis", "--to", "1.0.0"
    )
    assert code == 0 and "diagnosis: v1.0.2 restores v1.0.0" in out
    assert git(repo, "rev-list", "--count", "main") == "4"

    with SqliteStore(db, synchronous="NORMAL") as store:
        record_runs(store, "diagnosis", outcome_runs(2, 18, "1.0.1"))
    code, out, _ = cli(capsys, "compare", "--db", str(db), "--agent", "diagnosis")
    assert code == 0 and "95% CI (Wilson)" in out
    assert (
        "1.0.0 -> 1.0.1: p = " in out and "(Fisher's exact test, two-sided), significant at alpha 0.05" in out
    )
    code, out, _ = cli(capsys, "compare", "--db", str(db), "--agent", "diagnosis", "1.0.0", "1.0.1", "--json")
    data = json.loads(out)
    assert [v["version"] for v in data["versions"]] == ["1.0.0", "1.0.1"] and data["differences"][0][
        "significant"
    ]


def test_cli_learn_proposals_and_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo, db = tmp_path / "prompts", tmp_path / "runs.db"
    with SqliteStore(db, synchronous="NORMAL") as store:
        record_runs(store, "diagnosis", planted_runs(24))
    cli(capsys, "prompts", "init", str(repo))
    cli(capsys, "prompts", "add-agent", str(repo), "diagnosis")
    code, out, _ = cli(
        capsys, "learn", "--db", str(db), "--prompts-repo", str(repo), "--no-auto-update", "--json"
    )
    report = json.loads(out)
    assert code == 0 and report["agents"][0]["branch"] == "proposals/diagnosis/v1.0.1"
    assert report["agents"][0]["tag"] is None
    (repo / "stray.txt").write_text("x\n")
    code, _, err = cli(capsys, "learn", "--db", str(db), "--prompts-repo", str(repo))
    assert code == 2 and "uncommitted changes" in err and "Nothing was written" in err
    code, _, err = cli(capsys, "history", "--prompts-repo", str(repo), "--agent", "Not/Valid")
    assert code == 2 and "is not allowed" in err
    code, _, err = cli(
        capsys, "rollback", "--prompts-repo", str(tmp_path / "nope"), "--agent", "a", "--to", "1.0.0"
    )
    assert code == 2 and "does not exist" in err
