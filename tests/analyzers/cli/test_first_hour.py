"""What a new user meets in the first hour, through the real console script (issue 14, issue 12.10):
typos name the known agents and versions, logs stay quiet unless asked, ``--version``, help texts,
``learn`` writes only for added agents, ``prompts init`` refuses a non-empty directory, and names
from traces reach the terminal inert."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

from analyzers.store.exporter import StoreSpanExporter
from analyzers.store.sqlite import SqliteStore
from otel_meta import semconv as sc
from tests.analyzers.cli.console import one_error_line, otel_meta
from tests.analyzers.guidelines.prompts_repo import git
from tests.analyzers.guidelines.traces import BAD, GOOD, RunSpec, outcome_runs, planted_runs, record_runs

EVIL_AGENT = "evil\x1b[2J\u202eagent"
EVIL_TOOL = "get\x1b]0;pwned\x07pods\u2067"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "runs.db"
    with SqliteStore(path, synchronous="NORMAL") as store:
        record_runs(store, "diagnosis", outcome_runs(15, 5, "1.0.0") + outcome_runs(18, 2, "1.0.1"))
        record_runs(store, "mini-swe-agent", planted_runs(30, seed=3))
        evil = [RunSpec((EVIL_TOOL, *s.tools) if s.tools == GOOD else BAD, s.success) for s in planted_runs(40)]
        record_runs(store, EVIL_AGENT, evil)
        _record_failed_tool_call(store, "triage", "get_logs")
    return path


def _record_failed_tool_call(store: SqliteStore, agent: str, tool: str) -> None:
    """One run of ``agent`` whose single ``tool`` call raised (an ERROR span with ``error.type``)."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(StoreSpanExporter(store)))
    tracer = provider.get_tracer("tests.cli")
    with tracer.start_as_current_span(f"invoke_agent {agent}", attributes={
        sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: agent,
    }), tracer.start_as_current_span(f"execute_tool {tool}", attributes={
        sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL, sc.GEN_AI_TOOL_NAME: tool, sc.ERROR_TYPE: "TimeoutError",
    }) as span:
        span.set_status(Status(StatusCode.ERROR))
    provider.shutdown()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "prompts"
    assert otel_meta("prompts", "init", path).returncode == 0
    base = tmp_path / "base.txt"
    base.write_text("You diagnose incidents.\n")
    assert otel_meta("prompts", "add-agent", path, "diagnosis", "--base-prompt-file", base).returncode == 0
    return path


@pytest.mark.parametrize("argv", [
    ("runs", "--agent", "diagnosys"),
    ("compare", "--agent", "diagnosys"),
    ("patterns", "--agent", "diagnosys"),
])
def test_an_unknown_agent_exits_2_naming_the_known_ones_closest_first(db: Path, argv: tuple[str, ...]) -> None:
    line = one_error_line(otel_meta(argv[0], "--db", db, *argv[1:]), argv[0])
    assert "no runs of agent 'diagnosys' in the store; agents with runs: diagnosis, " in line
    assert "mini-swe-agent" in line


def test_learn_with_an_unknown_agent_exits_2_and_writes_nothing(db: Path, repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    line = one_error_line(otel_meta("learn", "--db", db, "--prompts-repo", repo, "--agent", "diagnosys"), "learn")
    assert "agents with runs: diagnosis, " in line
    assert git(repo, "rev-parse", "HEAD") == head


def test_compare_with_an_unknown_version_exits_2_instead_of_inventing_a_row(db: Path) -> None:
    proc = otel_meta("compare", "--db", db, "--agent", "diagnosis", "1.0.0", "9.9.9")
    line = one_error_line(proc, "compare")
    assert "no runs of agent 'diagnosis' at prompt version '9.9.9'; versions with runs: 1.0.0, 1.0.1" in line
    assert proc.stdout == ""
    ok = otel_meta("compare", "--db", db, "--agent", "diagnosis", "v1.0.0", "1.0.1")
    assert ok.returncode == 0 and "1.0.0 -> 1.0.1: p = " in ok.stdout


def test_learn_writes_guidelines_only_for_added_agents(db: Path, repo: Path) -> None:
    proc = otel_meta("learn", "--db", db, "--prompts-repo", repo)
    assert proc.returncode == 0, proc.stderr
    assert (f"mini-swe-agent: not in the prompts repo, so no guidelines; add it with: otel-meta prompts "
            f"add-agent {repo} mini-swe-agent --base-prompt-file FILE") in proc.stdout
    assert git(repo, "ls-tree", "--name-only", "main").split() == ["diagnosis.yaml"]
    assert "mini-swe-agent" not in git(repo, "tag", "--list")
    as_json = json.loads(otel_meta("learn", "--db", db, "--prompts-repo", repo, "--json").stdout)
    assert as_json["not_added"] == ["mini-swe-agent", "triage"]
    assert [a["agent"] for a in as_json["agents"]] == sorted(["diagnosis", EVIL_AGENT])


def test_prompts_init_refuses_a_non_empty_directory_at_once(tmp_path: Path) -> None:
    folder = tmp_path / "existing"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine\n")
    line = one_error_line(otel_meta("prompts", "init", folder), "prompts")
    assert f"{folder} is not empty" in line and "new or empty directory" in line
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]  # no .git left behind
    assert otel_meta("prompts", "init", tmp_path / "new").returncode == 0


def test_info_logs_only_when_asked_and_log_level_after_the_command(tmp_path: Path) -> None:
    repo = tmp_path / "p"
    quiet = [otel_meta("prompts", "init", repo), otel_meta("prompts", "add-agent", repo, "quiet")]
    assert [(p.returncode, p.stderr) for p in quiet] == [(0, ""), (0, "")]
    loud = otel_meta("prompts", "add-agent", repo, "loud", "--log-level", "INFO")
    assert loud.returncode == 0 and " INFO analyzers.guidelines.writer: loud v1.0.0 committed" in loud.stderr
    before = otel_meta("--log-level", "INFO", "prompts", "add-agent", repo, "before")
    assert " INFO " in before.stderr
    line = one_error_line(otel_meta("prompts", "list", repo, "--log-level", "LOUD"), "prompts")
    assert "--log-level must be one of DEBUG, INFO, WARNING, ERROR, got 'LOUD'" in line


def test_version_and_help_texts() -> None:
    proc = otel_meta("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"otel-meta {version('otel-meta')}"
    for action, words in (("init", "new or empty directory"), ("add-agent", "otel_meta.load_prompt"),
                          ("list", "current version")):
        text = otel_meta("prompts", action, "--help").stdout
        assert words in " ".join(text.split()), (action, text)
    serve = " ".join(otel_meta("serve", "--help").stdout.split())
    assert "(default 4318; 0 = any free)" in serve and "(default 4317; 0 = any free)" in serve
    assert "(default 127.0.0.1)" in serve and "created when missing" not in serve.split("--prompts-repo")[0]
    runs = " ".join(otel_meta("runs", "--help").stdout.split())
    assert "a tool call that failed ends in '!'" in runs


def test_runs_explains_the_failed_step_mark(db: Path) -> None:
    proc = otel_meta("runs", "--db", db, "--agent", "triage")
    assert proc.returncode == 0 and "1 [get_logs!]" in proc.stdout
    assert proc.stdout.rstrip().splitlines()[-1] == "(a tool call that failed ends in '!')"


def _assert_inert(text: str) -> None:
    assert EVIL_AGENT not in text and "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "\u2067" not in text


def test_names_from_traces_reach_the_terminal_inert(db: Path, repo: Path) -> None:
    runs = otel_meta("runs", "--db", db, "--agent", EVIL_AGENT, "--limit", "40")
    assert runs.returncode == 0
    _assert_inert(runs.stdout)
    assert "evil\\x1b[2J\\u202eag" in runs.stdout and "get\\x1b]0;pwned\\x07pods\\u2067" in runs.stdout
    patterns = otel_meta("patterns", "--db", db, "--agent", EVIL_AGENT)
    assert patterns.returncode == 0 and "get\\x1b]0;pwned\\x07pods" in patterns.stdout
    _assert_inert(patterns.stdout)
    learn = otel_meta("learn", "--db", db, "--prompts-repo", repo)
    assert learn.returncode == 0 and "evil\\x1b[2J\\u202eagent: skipped (" in learn.stdout
    _assert_inert(learn.stdout + learn.stderr)
    status = otel_meta("status", "--db", db, "--prompts-repo", repo)
    assert status.returncode == 0 and "evil\\x1b[2J\\u202eagent" in status.stdout
    _assert_inert(status.stdout)
    unknown = one_error_line(otel_meta("runs", "--db", db, "--agent", "evil"), "runs")
    _assert_inert(unknown)
    # --json stays exact JSON: the names as they came
    as_json = json.loads(otel_meta("runs", "--db", db, "--agent", EVIL_AGENT, "--json").stdout)
    assert {r["agent"] for r in as_json} == {EVIL_AGENT}
    assert any(s["name"] == EVIL_TOOL for r in as_json for s in r["steps"])
