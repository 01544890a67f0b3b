"""The instrumented SRE agent: ``import otel_meta.auto`` plus the decorators, nothing else.

Spans go wherever the standard ``OTEL_EXPORTER_OTLP_*`` settings (and ``OTEL_META_ANALYZER_ENDPOINT``)
say. The prompt comes from the git prompts repo through ``otel_meta.load_prompt``, which also stamps
the prompt version on every agent span that follows.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from pathlib import Path

import otel_meta
import otel_meta.auto  # sets up the tracer provider from OTEL_* and instruments what it can
from examples.sre_agent.cluster import NAMESPACE, TOOLS, Problem, SimulatedCluster, draw_problem
from examples.sre_agent.episode import IncidentResult, ToolFunction, run_incident
from examples.sre_agent.guidance import Guidance, parse_guidance
from examples.sre_agent.policy import Decision, SrePolicy

logger = logging.getLogger(__name__)

AGENT_NAME = "hotel-sre"
APP_DESCRIPTION = "A microservices-based hotel reservation system"


@otel_meta.tool("get_pods")
def get_pods(cluster: SimulatedCluster, target: str | None) -> str:
    return cluster.inspect("get_pods", target).text


@otel_meta.tool("get_logs")
def get_logs(cluster: SimulatedCluster, target: str | None) -> str:
    return cluster.inspect("get_logs", target).text


@otel_meta.tool("check_services")
def check_services(cluster: SimulatedCluster, target: str | None) -> str:
    return cluster.inspect("check_services", target).text


@otel_meta.tool("get_metrics")
def get_metrics(cluster: SimulatedCluster, target: str | None) -> str:
    return cluster.inspect("get_metrics", target).text


@otel_meta.tool("describe_deployment")
def describe_deployment(cluster: SimulatedCluster, target: str | None) -> str:
    return cluster.inspect("describe_deployment", target).text


@otel_meta.tool("restart_pod")
def restart_pod(cluster: SimulatedCluster, target: str | None) -> str:
    return cluster.remediate("restart_pod", target)


@otel_meta.tool("rollback_deployment")
def rollback_deployment(cluster: SimulatedCluster, target: str | None) -> str:
    return cluster.remediate("rollback_deployment", target)


@otel_meta.tool("scale_deployment")
def scale_deployment(cluster: SimulatedCluster, target: str | None) -> str:
    return cluster.remediate("scale_deployment", target)


@otel_meta.tool("patch_service")
def patch_service(cluster: SimulatedCluster, target: str | None) -> str:
    return cluster.remediate("patch_service", target)


INSTRUMENTED_TOOLS: dict[str, ToolFunction] = {
    "get_pods": get_pods,
    "get_logs": get_logs,
    "check_services": check_services,
    "get_metrics": get_metrics,
    "describe_deployment": describe_deployment,
    "restart_pod": restart_pod,
    "rollback_deployment": rollback_deployment,
    "scale_deployment": scale_deployment,
    "patch_service": patch_service,
}
assert set(INSTRUMENTED_TOOLS) == set(TOOLS)


def _think(decision: Decision) -> None:
    otel_meta.thinking(decision.reasoning, tool_choice=decision.tool, justification=decision.justification)


def _work_incident(problem: Problem, policy: SrePolicy, rng: random.Random) -> IncidentResult:
    result = run_incident(problem, policy, rng, INSTRUMENTED_TOOLS, _think)
    otel_meta.set_outcome(result.success, submission=result.submission)
    return result


def handle_incident(problem: Problem, policy: SrePolicy, rng: random.Random) -> IncidentResult:
    """Diagnose and mitigate one incident in the hotel-reservation namespace: one agent run (span
    ``invoke_agent hotel-sre``) that carries the incident as its problem context."""
    context = otel_meta.ProblemContext(
        problem_id=problem.problem_id,
        app_name="hotel-reservation",
        app_namespace=NAMESPACE,
        app_description=APP_DESCRIPTION,
    )
    return otel_meta.agent(AGENT_NAME, problem=context)(_work_incident)(problem, policy, rng)


@dataclass(frozen=True)
class RoundSummary:
    prompt_version: str
    episodes: int
    successes: int


def run_round(prompts_repo: Path, *, episodes: int, seed: int, round_index: int) -> RoundSummary:
    """Load the current prompt and work ``episodes`` incidents with it (deterministic per seed/round)."""
    prompt = otel_meta.load_prompt(AGENT_NAME, repo=prompts_repo)
    guidance: Guidance = parse_guidance(prompt.text, TOOLS)
    logger.info("prompt %s: %d recommended, %d warned sequences", prompt.version,
                len(guidance.recommended), len(guidance.warned))
    successes = 0
    for i in range(episodes):
        rng = random.Random(f"{seed}:{round_index}:{i}")
        problem = draw_problem(rng, round_index * 10_000 + i)
        result = handle_incident(problem, SrePolicy(guidance, rng), rng)
        successes += result.success
    return RoundSummary(prompt.version, episodes, successes)


__all__ = ["AGENT_NAME", "INSTRUMENTED_TOOLS", "NAMESPACE", "RoundSummary", "handle_incident", "run_round"]
