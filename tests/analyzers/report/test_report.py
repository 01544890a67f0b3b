"""The HTML report: self-contained, its data escaped, and its chart and tables render in Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analyzers.model import Pattern
from analyzers.report import ReportCommit, VersionRate, render_report, write_report
from tests.analyzers.report.chromium import rendered_dom

VERSIONS = [
    VersionRate("1.0.0", runs=60, successes=19, low=0.21, high=0.44),
    VersionRate("1.0.1", runs=60, successes=41, low=0.56, high=0.78),
    VersionRate("1.0.2", runs=60, successes=50, low=0.72, high=0.91),
]
HOSTILE = '</script><script>document.title="pwned"</script><img src=x onerror=alert(1)>'
PATTERNS = [
    Pattern(id="sp-1", type="success_pattern", agent="hotel-sre", description="get_pods then get_logs",
            tools=("get_pods", "get_logs"), confidence=0.93, frequency=40, success_rate=0.8,
            baseline_success_rate=0.35),
    Pattern(id="fp-2", type="failure_pattern", agent="hotel-sre", description=HOSTILE,
            tools=("restart_pod", "restart_pod"), confidence=0.88, frequency=22, success_rate=0.05,
            baseline_success_rate=0.35),
]
COMMITS = [ReportCommit("abc1234", "hotel-sre v1.0.1: apply sp-1"), ReportCommit("def5678", "add agent")]


def assert_self_contained(page: str) -> None:
    """Nothing in ``page`` can load from elsewhere: no URL but the SVG namespace, no CSS import."""
    assert not re.search(r"""(src|href|action)\s*=\s*["']?(https?:)?//""", page), "the report must not load anything"
    assert set(re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"'<>)]*", page)) <= {"http://www.w3.org/2000/svg"}
    assert not re.search(r"url\(|@import|fetch\(|XMLHttpRequest|import\(", page)
    assert "cdn" not in page.lower()


def test_report_has_no_external_resources_and_escapes_its_data() -> None:
    page = render_report(versions=VERSIONS, patterns=PATTERNS, commits=COMMITS, agent="hotel-sre")
    assert_self_contained(page)
    assert HOSTILE not in page and "</script><script>" not in page
    assert page.count("</script>") == 2  # the data block and the renderer, nothing injected
    assert "__REPORT_DATA__" not in page and "__REPORT_TITLE__" not in page


@pytest.mark.slow
def test_report_chart_and_tables_render_in_chromium(tmp_path: Path) -> None:
    path = write_report(tmp_path / "out" / "report.html", versions=VERSIONS, patterns=PATTERNS,
                        commits=COMMITS, agent="hotel-sre")
    page = rendered_dom(path, tmp_path)
    m = page.measure
    assert m["rendered"] == "true"
    assert m["ids"]["rate-chart"]["w"] > 300 and m["ids"]["rate-chart"]["h"] > 200
    heights = [b["h"] for b in m["bars"]]
    assert len(heights) == 3 and all(b["w"] > 10 for b in m["bars"])
    assert heights[0] < heights[1] < heights[2], "bar heights follow the success rates"
    assert len(m["pattern_rows"]) == 2 and all(r["h"] > 10 for r in m["pattern_rows"])
    assert len(m["version_rows"]) == 3 and len(m["commit_rows"]) == 2
    assert "<title>otel-meta report: hotel-sre</title>" in page.dom
    assert "pwned" not in re.search(r"<title>(.*?)</title>", page.dom).group(1)  # type: ignore[union-attr]
    assert "&lt;/script&gt;&lt;script&gt;" in page.dom, "the hostile description is shown as text"
    assert "<img" not in page.dom


@pytest.mark.slow
def test_empty_report_renders_placeholders(tmp_path: Path) -> None:
    path = write_report(tmp_path / "report.html", versions=[], patterns=[])
    page = rendered_dom(path, tmp_path)
    assert page.measure["rendered"] == "true" and page.measure["bars"] == []
    assert "no runs yet" in page.dom and "no patterns mined yet" in page.dom


@pytest.mark.slow
def test_report_command_shows_each_versions_state_guidelines_and_evidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from analyzers.cli import main
    from analyzers.guidelines import GuidelineWriter, PromptsRepo
    from analyzers.orchestrator.cycle import run_cycle
    from analyzers.store.sqlite import SqliteStore
    from tests.analyzers.guidelines.traces import RunSpec, planted_runs, record_runs

    db, repo = tmp_path / "runs.db", PromptsRepo.init(tmp_path / "prompts")
    GuidelineWriter(repo).add_agent("diagnosis", "You are an SRE agent.\n")
    with SqliteStore(db, synchronous="NORMAL") as store:
        record_runs(store, "diagnosis", planted_runs(40, version="1.0.0"))
        assert run_cycle(store, repo, min_traces=10).agents[0].version == "1.0.1"  # a candidate
        worse = [RunSpec(("get_pods",), ok, v) for i in range(30)
                 for ok, v in (((i % 5 == 0), "1.0.1"), (i % 10 != 0, "1.0.0"))]
        record_runs(store, "diagnosis", worse)
        decision = run_cycle(store, repo, min_traces=10).agents[0].rollout
        assert decision is not None and decision.action == "reject"
    out = tmp_path / "site" / "report.html"
    assert main(["report", "--db", str(db), "--prompts-repo", str(repo.path), "--agent", "diagnosis",
                 "--output", str(out)]) == 0
    assert f"diagnosis: report written to {out}" in capsys.readouterr().out
    html = out.read_text(encoding="utf-8")
    assert_self_contained(html)
    page = rendered_dom(out, tmp_path)
    assert page.measure["rendered"] == "true" and len(page.measure["bars"]) == 2
    assert 'data-state="rejected"' in page.dom and 'data-state="stable"' in page.dom
    assert "significantly worse" in page.dom and "vs v1.0.0: p = " in page.dom
    changes = re.findall(r'<tr class="change" data-pattern="([^"]+)">', page.dom)
    assert changes and set(changes) <= set(re.findall(r'data-id="([^"]+)"', page.dom)) | set(changes)
    assert re.search(r'<code class="trace">[0-9a-f]{32}</code>', page.dom), "evidence trace ids are shown"
    assert page.measure["ids"]["guidelines"]["h"] > 50


def test_report_command_refuses_a_missing_store_or_an_unknown_agent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from analyzers.cli import main
    from analyzers.guidelines import PromptsRepo
    from analyzers.store.sqlite import SqliteStore

    repo = PromptsRepo.init(tmp_path / "prompts")
    args = ["report", "--prompts-repo", str(repo.path), "--agent", "nobody"]
    assert main([*args, "--db", str(tmp_path / "none.db")]) == 2
    assert capsys.readouterr().err.strip() == f"otel-meta report: no store at {tmp_path / 'none.db'}"
    SqliteStore(tmp_path / "runs.db").close()
    assert main([*args, "--db", str(tmp_path / "runs.db"), "--output", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("otel-meta report: ") and "nobody" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r.html").exists()
