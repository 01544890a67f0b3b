"""A shortened ``make demo``: the agent really improves, the guard rejects the teammate's harmful
candidate, the best measured version ends stable, and the report renders.

The demo runs for real: ``otel-meta serve`` as a child process, the agent in its own processes
shipping OTLP, ``otel-meta learn`` between rounds (its default rollout: candidates get half the runs),
``otel-meta compare``/``history``/``status``/``report`` at the end. Which version a run gets depends on
its trace id, which the agent's seeded trace ids make reproducible; the assertions are about effects
much larger than the noise anyway: the first learned version more than doubles the success rate
(promoted after one round of 50 runs each), and the teammate's rule costs the agent about a third of
its successes, with up to three rounds (about 150 runs of it) to be caught.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
from scipy.stats import fisher_exact

from examples.demo import TEAMMATE_PATTERN_ID, DemoConfig, DemoResult, run_demo
from tests.analyzers.report.chromium import rendered_dom
from tests.analyzers.report.test_report import assert_self_contained

SEED = 7
ROUNDS = 5


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoResult, str]:
    out = tmp_path_factory.mktemp("demo-output")
    lines: list[str] = []
    config = DemoConfig(rounds=ROUNDS, episodes=100, seed=SEED, output_dir=out, teammate_round=2)
    result = run_demo(config, echo=lines.append)
    text = "\n".join(lines)
    # Everything the demo promises to print: rates with intervals, states, cycles, commits, the guard.
    assert "success rate per prompt version" in text and "where to look next" in text
    for v in result.comparison["versions"]:
        if v["version"] is not None:
            assert re.search(rf"^{re.escape(v['version'])}\s+{v['runs']}\s+[\d.]+%\s+\[[\d.]+%, [\d.]+%\]$",
                             text, re.MULTILINE), v
    assert result.git_log.strip() and result.git_log.rstrip() in text
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
    return result, text


@pytest.mark.slow
def test_the_teammates_harmful_candidate_is_caught_and_rejected(demo: tuple[DemoResult, str]) -> None:
    result, text = demo
    teammate = result.teammate_version
    states = {h["version"]: h["state"] for h in result.history}
    assert teammate is not None and states[teammate] == "rejected", states
    (rejection,) = [r for r in result.rounds if r.candidate == teammate and r.decision == "reject"]
    assert "significantly worse" in str(rejection.decision_reason)
    assert f"the teammate's candidate v{teammate}: caught and rejected" in text
    # the rejection restored the stable text: the teammate's line is in no version served after it
    assert "Avoid get_pods -> get_logs" not in result.final_prompt and "teammate" not in result.final_prompt
    assert any(f"reject candidate v{teammate}" in h["subject"] for h in result.history)
    (mine,) = [h for h in result.history if h["version"] == teammate]
    assert mine["why"].startswith(f"v{teammate} ") and "significantly worse" in mine["why"]
    assert TEAMMATE_PATTERN_ID not in result.final_prompt


@pytest.mark.slow
def test_the_demo_ends_with_the_best_measured_version_stable(demo: tuple[DemoResult, str]) -> None:
    result, text = demo
    assert "keep-best: no version measured significantly better than stable" in text
    versions = {v["version"]: v for v in result.comparison["versions"] if v["version"] is not None}
    first, last = versions["1.0.0"], versions[str(result.final_stable)]
    table = [[last["successes"], last["runs"] - last["successes"]],
             [first["successes"], first["runs"] - first["successes"]]]
    _, p_value = fisher_exact(table, alternative="greater")
    assert p_value < 0.05 and last["success_rate"] > first["success_rate"], (first, last, p_value)
    # every path that ran a cycle is on the one record: status counts the demo's learn cycles
    # (one cycle per round: the planned rounds, plus settling rounds while a candidate was undecided)
    assert ROUNDS <= len(result.rounds) <= ROUNDS + DemoConfig.settle_rounds
    assert re.search(rf"^learning cycles:\s+{len(result.rounds)} ", text, re.MULTILINE)
    if len(result.rounds) > ROUNDS:  # the settling rounds stopped once that candidate was decided
        assert result.rounds[-1].decision in ("promote", "reject") or len(result.rounds) == ROUNDS + DemoConfig.settle_rounds
    assert any(r.decision == "promote" for r in result.rounds)
    assert "## Learned guidelines" in result.final_prompt


@pytest.mark.slow
def test_report_shows_states_guidelines_and_renders(demo: tuple[DemoResult, str], tmp_path: Path) -> None:
    result, _ = demo
    assert_self_contained(result.report.read_text(encoding="utf-8"))
    page = rendered_dom(result.report, tmp_path)
    versions = [v for v in result.comparison["versions"] if v["version"] is not None]
    assert page.measure["rendered"] == "true"
    assert len(page.measure["bars"]) == len(versions)
    assert all(b["w"] > 5 and b["h"] > 0 for b in page.measure["bars"])
    assert len(page.measure["pattern_rows"]) >= 1 and all(r["h"] > 5 for r in page.measure["pattern_rows"])
    assert page.measure["ids"]["rate-chart"]["h"] > 200 and page.measure["ids"]["guidelines"]["h"] > 50
    assert 'data-state="rejected"' in page.dom and 'data-state="stable"' in page.dom
    assert f'data-pattern="{TEAMMATE_PATTERN_ID}"' in page.dom and "get_pods" in page.dom
    assert re.search(r'<code class="trace">[0-9a-f]{32}</code>', page.dom), "evidence trace ids are listed"
