"""The instrumented SRE agent: ``import otel_meta.auto`` plus the decorators, nothing else.

Spans go wherever the standard ``OTEL_EXPORTER_OTLP_*`` settings (and ``OTEL_META_ANALYZER_ENDPOINT``)
say. The prompt comes from the git prompts repo through ``otel_meta.load_prompt``, loaded once per
process; each run reads ``prompt.text`` inside itself, so while a candidate version rolls out beside
the stable one each run follows the version its trace id drew, and its span says which.
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

Prompt = otel_meta.PromptVersion | otel_meta.PromptRollout

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


def _context(problem: Problem) -> otel_meta.ProblemContext:
    return otel_meta.ProblemContext(
        problem_id=problem.problem_id,
        app_name="hotel-reservation",
        app_namespace=NAMESPACE,
        app_description=APP_DESCRIPTION,
    )


def handle_incident(problem: Problem, policy: SrePolicy, rng: random.Random) -> IncidentResult:
    """Diagnose and mitigate one incident in the hotel-reservation namespace: one agent run (span
    ``invoke_agent hotel-sre``) that carries the incident as its problem context."""
    return otel_meta.agent(AGENT_NAME, problem=_context(problem))(_work_incident)(problem, policy, rng)


_GUIDANCE: dict[str, Guidance] = {}


def _work_with_prompt(problem: Problem, prompt: Prompt, rng: random.Random) -> tuple[IncidentResult, str]:
    text = prompt.text  # inside the run: the version this run drew
    guidance = _GUIDANCE.get(text)
    if guidance is None:
        guidance = _GUIDANCE[text] = parse_guidance(text, TOOLS)
    return _work_incident(problem, SrePolicy(guidance, rng), rng), prompt.version


def handle_incident_with_prompt(problem: Problem, prompt: Prompt, rng: random.Random) -> tuple[IncidentResult, str]:
    """One agent run that follows the guidelines of the prompt version it drew; returns the result and
    that version."""
    return otel_meta.agent(AGENT_NAME, problem=_context(problem))(_work_with_prompt)(problem, prompt, rng)


@dataclass(frozen=True)
class RoundSummary:
    """A round's figures: ``versions`` maps each prompt version to ``(episodes, successes)``."""

    prompt_version: str
    episodes: int
    successes: int
    versions: dict[str, tuple[int, int]]


def run_round(prompts_repo: Path, *, episodes: int, seed: int, round_index: int) -> RoundSummary:
    """Load the prompt once and work ``episodes`` incidents (deterministic per seed/round); each
    incident runs with the version its trace id drew while a candidate is out."""
    # The SDK draws trace ids from the global random module, and a run's version (while a candidate is
    # out) from its trace id: seeding it makes the demo's split between versions reproducible too.
    random.seed(f"trace-ids:{seed}:{round_index}")
    prompt = otel_meta.load_prompt(AGENT_NAME, repo=prompts_repo)
    counts: dict[str, list[int]] = {}
    successes = 0
    for i in range(episodes):
        rng = random.Random(f"{seed}:{round_index}:{i}")
        problem = draw_problem(rng, round_index * 10_000 + i)
        result, version = handle_incident_with_prompt(problem, prompt, rng)
        successes += result.success
        entry = counts.setdefault(version, [0, 0])
        entry[0] += 1
        entry[1] += result.success
    return RoundSummary(prompt.version, episodes, successes, {v: (n, k) for v, (n, k) in sorted(counts.items())})


__all__ = ["AGENT_NAME", "INSTRUMENTED_TOOLS", "NAMESPACE", "RoundSummary", "handle_incident",
           "handle_incident_with_prompt", "run_round"]
