"""A simulated Kubernetes namespace running the hotel-reservation microservice app, with one fault.

The faults are those an SRE agent meets in the seed's setting (a crashed pod, a database connection
issue, a misconfigured service, a bad deployment, resource exhaustion). Each is found by the same
protocol (``get_pods`` for the unhealthy service, ``get_logs`` on it for the kind of fault), confirmed
by a kind-specific tool, and fixed by one remediation on the right target (``FaultKind``). Tool
outputs are plain text an operator would recognise; the ``Clue`` next to each output is what a
careful reader takes from it (the agent's policy reads clues, not text).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

NAMESPACE = "hotel-reservation"
SERVICES = ("frontend", "search", "geo", "profile", "rate", "recommendation", "reservation", "user")
DATABASES = {s: f"mongodb-{s}" for s in ("geo", "profile", "rate", "recommendation", "reservation", "user")}

DIAGNOSTIC_TOOLS = ("get_pods", "get_logs", "check_services", "get_metrics", "describe_deployment")
REMEDIATION_TOOLS = ("restart_pod", "rollback_deployment", "scale_deployment", "patch_service")
TOOLS = DIAGNOSTIC_TOOLS + REMEDIATION_TOOLS
#: Diagnostic tools that act on one service (the others list the whole namespace).
TARGETED_TOOLS = frozenset({"get_logs", "describe_deployment"}) | frozenset(REMEDIATION_TOOLS)


@dataclass(frozen=True)
class FaultKind:
    """A kind of fault: how it is confirmed and what fixes it.

    Every fault is found the same way: ``get_pods`` shows the unhealthy service, ``get_logs`` on that
    service tells what kind of fault it is; the ``confirm`` tool (when there is one) gives what the
    remediation needs (which database, which port, which revision, how much memory): without it the
    right remediation only works by luck.
    """

    name: str
    description: str
    confirm: str | None
    remediation: str


FAULT_KINDS: tuple[FaultKind, ...] = (
    FaultKind("crashed_pod", "a pod in CrashLoopBackOff after a panic", None, "restart_pod"),
    FaultKind("db_connection", "a service that cannot reach its MongoDB", "check_services", "restart_pod"),
    FaultKind("misconfigured_service", "a Service whose targetPort does not match the container port",
              "check_services", "patch_service"),
    FaultKind("bad_deployment", "a rollout of a broken image revision", "describe_deployment",
              "rollback_deployment"),
    FaultKind("resource_exhaustion", "a memory leak that gets pods OOM-killed", "get_metrics", "scale_deployment"),
)
FAULTS_BY_NAME = {k.name: k for k in FAULT_KINDS}
#: How often the right remediation works without its confirmation (a lucky guess of its parameters).
UNCONFIRMED_FIX_RATE = 0.3
#: Remediations that need a parameter, and the diagnostic tool (on the same service) that shows it.
PARAMETER_SOURCES = {
    "rollback_deployment": ("describe_deployment", "--to-revision"),
    "patch_service": ("check_services", "--target-port"),
    "scale_deployment": ("get_metrics", "--memory-limit"),
}


@dataclass(frozen=True)
class Problem:
    """One incident: a fault kind on one service. ``problem_id`` is stable for the same incident."""

    problem_id: str
    kind: FaultKind
    service: str

    @property
    def remediation_target(self) -> str:
        """What the remediation must act on (the database for a connection issue)."""
        if self.kind.name == "db_connection":
            return DATABASES[self.service]
        return self.service


@dataclass(frozen=True)
class Clue:
    """What a careful reader learns from one tool output: the unhealthy service, the kind of fault
    (from the right logs), or the confirmation the remediation needs."""

    suspect: str | None = None
    finding: str | None = None
    confirms: bool = False


@dataclass(frozen=True)
class Observation:
    text: str
    clue: Clue


class ToolFailure(RuntimeError):
    """A tool call that failed (the API timed out, the object does not exist)."""


def draw_problem(rng: random.Random, index: int) -> Problem:
    """Draw an incident: any fault kind, on a service that can have it."""
    kind = rng.choice(FAULT_KINDS)
    candidates = tuple(DATABASES) if kind.name == "db_connection" else SERVICES
    service = rng.choice(candidates)
    return Problem(problem_id=f"{kind.name}-{service}-{index:04d}", kind=kind, service=service)


class SimulatedCluster:
    """The namespace with one fault injected. Tool calls read it; the right remediation resolves it."""

    def __init__(self, problem: Problem, rng: random.Random, *, metrics_timeout_rate: float = 0.2) -> None:
        self.problem = problem
        self._rng = rng
        self._metrics_timeout_rate = metrics_timeout_rate
        self.resolved = False
        self.confirmed = False
        #: Diagnostic tools that have run (targeted ones on the faulty service only).
        self.inspected: set[str] = set()
        #: The clue of the last successful diagnostic call (what a careful reader took from it).
        self.last_clue: Clue | None = None

    # --- diagnostics ----------------------------------------------------------------------------------
    def inspect(self, tool: str, target: str | None) -> Observation:
        """Run a diagnostic tool; raise ``ToolFailure`` when the call itself fails."""
        observation = self._inspect(tool, target)
        self.last_clue = observation.clue
        return observation

    def _inspect(self, tool: str, target: str | None) -> Observation:
        p = self.problem
        kind = p.kind.name
        on_target = tool not in TARGETED_TOOLS or target == p.service
        confirms = tool == p.kind.confirm and on_target
        if confirms:
            self.confirmed = True
        if on_target:
            self.inspected.add(tool)
        if tool == "get_pods":
            return Observation(self._pods_text(kind), Clue(suspect=p.service))
        if tool == "get_logs":
            if target not in SERVICES:
                raise ToolFailure(f'pods "{target}" not found in namespace {NAMESPACE}')
            return Observation(self._logs_text(kind if on_target else None, target),
                               Clue(finding=kind if on_target else None))
        if tool == "check_services":
            return Observation(self._services_text(kind if confirms else None), Clue(confirms=confirms))
        if tool == "get_metrics":
            if self._rng.random() < self._metrics_timeout_rate:
                raise ToolFailure("metrics API timed out after 30s")
            return Observation(self._metrics_text(kind), Clue(confirms=confirms))
        if tool == "describe_deployment":
            if target not in SERVICES:
                raise ToolFailure(f'deployments.apps "{target}" not found')
            return Observation(self._deployment_text(kind if on_target else None, target), Clue(confirms=confirms))
        raise ToolFailure(f"unknown diagnostic tool {tool!r}")

    # --- remediations ---------------------------------------------------------------------------------
    def remediate(self, tool: str, target: str | None) -> str:
        """Apply a remediation. A remediation that needs a parameter fails (``ToolFailure``) unless the
        tool that shows it was run first; the incident is resolved by the right tool on the right
        target, confirmed (or, for a restart, by luck)."""
        if target is None:
            raise ToolFailure(f"{tool} needs a target")
        source = PARAMETER_SOURCES.get(tool)
        if source is not None and source[0] not in self.inspected:
            raise ToolFailure(f"{tool} {target}: missing {source[1]} (run {source[0]} first)")
        p = self.problem
        right = tool == p.kind.remediation and target == p.remediation_target
        informed = p.kind.confirm is None or self.confirmed or self._rng.random() < UNCONFIRMED_FIX_RATE
        if right and informed:
            self.resolved = True
            return f"{tool} {target}: done; the frontend answers again (p99 210ms)"
        return f"{tool} {target}: done; symptoms persist"

    # --- text -----------------------------------------------------------------------------------------
    def _pods_text(self, kind: str | None) -> str:
        rows = []
        for s in SERVICES:
            status, restarts = "Running", 0
            if kind and s == self.problem.service:
                status, restarts = {
                    "crashed_pod": ("CrashLoopBackOff", 7),
                    "db_connection": ("Running", 3),
                    "bad_deployment": ("Error", 4),
                    "resource_exhaustion": ("OOMKilled", 5),
                    "misconfigured_service": ("Running (0/1 ready)", 0),
                }.get(kind, ("Running", 0))
            rows.append(f"{s}-7d9f8c6b5-x2k4q  1/1  {status}  {restarts}")
        return "NAME  READY  STATUS  RESTARTS\n" + "\n".join(rows)

    def _logs_text(self, kind: str | None, target: str) -> str:
        if kind == "crashed_pod":
            return f"{target}: panic: runtime error: invalid memory address or nil pointer dereference"
        if kind == "db_connection":
            return f"{target}: no reachable servers: dial tcp {DATABASES[target]}:27017: connection refused"
        if kind == "misconfigured_service":
            return f"{target}: readiness probe failed: connection refused on the Service port"
        if kind == "bad_deployment":
            return f"{target}: fatal: unknown flag --cache-ttl (started by the new image)"
        if kind == "resource_exhaustion":
            return f"{target}: fatal error: runtime: out of memory"
        return f"{target}: INFO serving requests on :8080"

    def _services_text(self, kind: str | None) -> str:
        s = self.problem.service
        if kind == "db_connection":
            return f"service/{DATABASES[s]}: endpoints <none> (0/1 ready)"
        if kind == "misconfigured_service":
            return f"service/{s}: port 8080 -> targetPort 9090; endpoints <none>"
        return "all services have ready endpoints"

    def _metrics_text(self, kind: str | None) -> str:
        s = self.problem.service
        if kind == "resource_exhaustion":
            return f"{s}: memory 1.9Gi/2Gi, climbing 40Mi/min; cpu 0.3"
        return f"{s}: error rate 38%; p99 5000ms; memory and cpu within limits"

    def _deployment_text(self, kind: str | None, target: str) -> str:
        if kind == "bad_deployment":
            return f"deployment/{target}: revision 12 image {target}:v2.3.1-rc (rolled out 4m ago); revision 11 v2.3.0"
        if kind == "misconfigured_service":
            return f"deployment/{target}: containerPort 8080"
        return f"deployment/{target}: revision 11, image {target}:v2.3.0, 1/1 available"
