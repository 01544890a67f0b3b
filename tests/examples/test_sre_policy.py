"""The simulated SRE agent's environment and policy, without instrumentation (``episode.bare_tools``)."""

from __future__ import annotations

import random

import pytest
from scipy.stats import fisher_exact

from analyzers.guidelines.templates import guideline_text
from analyzers.model import Pattern, PatternType
from examples.sre_agent.cluster import (
    FAULT_KINDS,
    FAULTS_BY_NAME,
    TOOLS,
    Problem,
    SimulatedCluster,
    ToolFailure,
    draw_problem,
)
from examples.sre_agent.episode import bare_tools, run_incident
from examples.sre_agent.guidance import Guidance, parse_guidance
from examples.sre_agent.policy import SrePolicy
from otel_meta._prompts import render_prompt

BASE = "You are an SRE agent for the hotel-reservation app. Tools: get_pods, get_logs, restart_pod."


def _pattern(kind: PatternType, tools: tuple[str, ...], rate: float, baseline: float = 0.4) -> Pattern:
    return Pattern(id=f"p-{'-'.join(tools)}", type=kind, agent="hotel-sre", description="d", tools=tools,
                   confidence=0.9, frequency=30, success_rate=rate, baseline_success_rate=baseline)


def _run(guidance: Guidance, n: int, seed: int = 3) -> list[tuple[bool, tuple[str, ...]]]:
    out = []
    for i in range(n):
        rng = random.Random(f"{seed}:{i}")
        problem = draw_problem(rng, i)
        result = run_incident(problem, SrePolicy(guidance, rng), rng, bare_tools())
        out.append((result.success, result.tools))
    return out


def test_parse_guidance_reads_the_guideline_writers_lines() -> None:
    lines = [
        guideline_text(_pattern("success_pattern", ("get_pods", "get_logs", "restart_pod"), 0.9)),
        guideline_text(_pattern("failure_pattern", ("restart_pod", "restart_pod"), 0.1)),
        guideline_text(_pattern("tool_effectiveness", ("check_services",), 0.8)),
        guideline_text(_pattern("thinking_pattern", ("describe_deployment",), 0.8)),
    ]
    assert all(lines)
    guidance = parse_guidance(render_prompt(BASE, [str(x) for x in lines]), TOOLS)
    assert guidance.recommended == (
        ("get_pods", "get_logs", "restart_pod"), ("check_services",), ("describe_deployment",),
    )
    assert guidance.warned == (("restart_pod", "restart_pod"),)


def test_parse_guidance_ignores_tool_names_outside_the_learned_section() -> None:
    assert parse_guidance(BASE, TOOLS).empty
    text = BASE + "\n\n## Learned guidelines\n- Never call rollback_deployment -> restart_pod blindly\n"
    text += "- Start with get_pods then get_logs\n\n## Notes\n- Prefer get_metrics\n"
    guidance = parse_guidance(text, TOOLS)
    assert guidance.warned == (("rollback_deployment", "restart_pod"),)
    assert guidance.recommended == (("get_pods", "get_logs"),)


def test_every_fault_is_resolved_by_the_protocol_then_its_remediation() -> None:
    tools = bare_tools()
    for kind in FAULT_KINDS:
        problem = Problem("p", kind, "rate")
        cluster = SimulatedCluster(problem, random.Random(0), metrics_timeout_rate=0.0)
        tools["get_pods"](cluster, None)
        assert cluster.last_clue is not None and cluster.last_clue.suspect == "rate"
        tools["get_logs"](cluster, "rate")
        assert cluster.last_clue is not None and cluster.last_clue.finding == kind.name
        if kind.confirm:
            tools[kind.confirm](cluster, "rate")
            assert cluster.last_clue is not None and cluster.last_clue.confirms
        tools[kind.remediation](cluster, problem.remediation_target)
        assert cluster.resolved, kind.name


def test_wrong_remediation_or_wrong_target_does_not_resolve() -> None:
    kind = FAULTS_BY_NAME["db_connection"]
    for tool, target in (("restart_pod", "rate"), ("scale_deployment", "mongodb-rate")):
        cluster = SimulatedCluster(Problem("p", kind, "rate"), random.Random(0), metrics_timeout_rate=0.0)
        bare_tools()["check_services"](cluster, None)
        bare_tools()["get_metrics"](cluster, None)
        assert "symptoms persist" in bare_tools()[tool](cluster, target)
        assert not cluster.resolved


def test_remediation_without_its_parameter_fails_as_a_call() -> None:
    cluster = SimulatedCluster(Problem("p", FAULTS_BY_NAME["bad_deployment"], "geo"), random.Random(0))
    with pytest.raises(ToolFailure, match="missing --to-revision"):
        bare_tools()["rollback_deployment"](cluster, "geo")
    bare_tools()["describe_deployment"](cluster, "geo")
    bare_tools()["rollback_deployment"](cluster, "geo")
    assert cluster.resolved


def test_logs_of_another_service_tell_nothing() -> None:
    cluster = SimulatedCluster(Problem("p", FAULTS_BY_NAME["crashed_pod"], "geo"), random.Random(0))
    assert "INFO" in bare_tools()["get_logs"](cluster, "user")
    assert cluster.last_clue is not None and cluster.last_clue.finding is None


def test_same_seed_same_episodes() -> None:
    guidance = Guidance(recommended=(("get_pods", "get_logs"),))
    assert _run(guidance, 40, seed=11) == _run(guidance, 40, seed=11)
    assert _run(guidance, 40, seed=11) != _run(guidance, 40, seed=12)


def test_recommended_sequences_raise_the_success_rate_significantly() -> None:
    n = 200
    bare = sum(ok for ok, _ in _run(Guidance(), n))
    guided = sum(ok for ok, _ in _run(Guidance(recommended=(("get_pods", "get_logs"),)), n))
    _, p = fisher_exact([[guided, n - guided], [bare, n - bare]], alternative="greater")
    assert guided > bare and p < 0.001, (bare, guided, p)


def test_warned_sequences_are_avoided() -> None:
    def bigrams(runs: list[tuple[bool, tuple[str, ...]]], pair: tuple[str, str]) -> int:
        return sum(any(t[i:i + 2] == pair for i in range(len(t) - 1)) for _, t in runs)

    pair = ("get_metrics", "get_metrics")
    unguided = bigrams(_run(Guidance(), 300), pair)
    warned = bigrams(_run(Guidance(warned=(pair,)), 300), pair)
    assert unguided >= 20 and warned <= unguided // 4, (unguided, warned)
