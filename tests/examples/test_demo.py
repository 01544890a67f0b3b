"""A shortened ``make demo`` with a fixed seed: the agent really improves, and the report renders.

The demo runs for real: ``otel-meta serve`` as a child process, the agent in its own processes
shipping OTLP, ``otel-meta learn`` between rounds, ``otel-meta compare`` at the end.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
from scipy.stats import fisher_exact

from examples.demo import DemoConfig, DemoResult, run_demo
from tests.analyzers.report.chromium import rendered_dom
from tests.analyzers.report.test_report import assert_self_contained

SEED = 11


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    out = tmp_path_factory.mktemp("demo-output")
    lines: list[str] = []
    result = run_demo(DemoConfig(rounds=3, episodes=50, seed=SEED, output_dir=out), echo=lines.append)
    text = "\n".join(lines)
    # Everything the demo promises to print: rates with intervals, the commits, the final prompt, next steps.
    assert "success rate per prompt version" in text and "where to look next" in text
    for v in result.comparison["versions"]:
        if v["version"] is not None:
            assert re.search(rf"^{re.escape(v['version'])}\s+{v['runs']}\s+[\d.]+%\s+\[[\d.]+%, [\d.]+%\]$",
                             text, re.MULTILINE), v
    assert result.git_log.strip() and result.git_log.rstrip() in text
    assert len(result.git_log.strip().splitlines()) >= 3  # init, add agent, at least one learned version
    assert result.final_prompt.rstrip() in text
    assert f"store:        {result.db}" in text and f"prompts repo: {result.prompts_repo}" in text
    assert f"otel-meta runs --db {result.db}" in text and str(result.report) in text
    # the read-only next steps run as printed, in a plain shell with no venv activated
    steps = [line.strip() for line in text.split("== where to look next", 1)[1].splitlines()
             if re.search(r"otel-meta (runs|patterns|compare|history|diff) ", line)]
    assert len(steps) == 5, steps
    for step in steps:
        done = subprocess.run(shlex.split(step), capture_output=True, text=True, timeout=120, check=False,
                              env={"PATH": "/usr/bin:/bin", "HOME": str(out)})
        assert done.returncode == 0 and done.stdout.strip(), (step, done.stderr)
    return result


@pytest.mark.slow
def test_last_version_is_significantly_better_than_the_first(demo: DemoResult) -> None:
    versions = [v for v in demo.comparison["versions"] if v["version"] is not None]
    assert len(versions) >= 2, demo.comparison
    first, last = versions[0], versions[-1]
    assert first["version"] == "1.0.0"
    table = [
        [last["successes"], last["runs"] - last["successes"]],
        [first["successes"], first["runs"] - first["successes"]],
    ]
    _, p_value = fisher_exact(table, alternative="greater")
    assert p_value < 0.05, (first, last, p_value)
    assert last["success_rate"] > first["success_rate"]


@pytest.mark.slow
def test_guidelines_are_commits_and_the_final_prompt_uses_them(demo: DemoResult) -> None:
    assert "tag: hotel-sre/v1.0.1" in demo.git_log
    assert "## Learned guidelines" in demo.final_prompt
    guideline_lines = demo.final_prompt.split("## Learned guidelines", 1)[1].strip().splitlines()
    assert guideline_lines and all(re.match(r"^- (Prefer|Use|Avoid|Think before) ", ln) for ln in guideline_lines)
    assert demo.rounds[0].prompt_version == "1.0.0"
    assert demo.rounds[-1].prompt_version != "1.0.0", "later rounds ran with learned guidelines"


@pytest.mark.slow
def test_report_chart_and_patterns_table_render(demo: DemoResult, tmp_path: Path) -> None:
    assert_self_contained(demo.report.read_text(encoding="utf-8"))
    page = rendered_dom(demo.report, tmp_path)
    versions = [v for v in demo.comparison["versions"] if v["version"] is not None]
    assert page.measure["rendered"] == "true"
    assert len(page.measure["bars"]) == len(versions)
    assert all(b["w"] > 5 and b["h"] > 0 for b in page.measure["bars"])
    assert len(page.measure["pattern_rows"]) >= 1 and all(r["h"] > 5 for r in page.measure["pattern_rows"])
    assert page.measure["ids"]["rate-chart"]["h"] > 200
    assert "get_pods" in page.dom
