"""Each agent framework, traced by each instrumentation people use with it, assembled right.

One subprocess per framework + instrumentation runs the travel agent of ``plans`` 36 times in the
framework's own venv (``tests.analyzers.conventions.envs``) against the loopback scripted model, and
exports its spans over OTLP/HTTP to a real ``AnalyzerServer``. Each assembled run is compared with what
really ran (the client's ground truth and the model's request count): the agent's own name, exactly the
tools that ran in order with their ok flags, one LLM step per model request, and failure when the
agent's run raised (no outcome otherwise: nothing says whether the answer was right).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from analyzers.model import Run
from analyzers.receiver.server import AnalyzerServer
from analyzers.store.sqlite import SqliteStore
from tests.analyzers.conventions import envs
from tests.analyzers.conventions.frameworks import plans
from tests.analyzers.conventions.frameworks.scripted_model import ScriptedModel
from tests.support.openai_server import OpenAIStandIn

CLIENTS = Path(__file__).parent / "clients"
#: Plans with a turn of parallel tool calls: their tools may start in either order.
PARALLEL = frozenset(i for i, p in enumerate(plans.PLANS) if any(len(turn) > 1 for turn in p))


@dataclass(frozen=True)
class Case:
    env: str
    client: str
    instrumentation: str
    agent: str = plans.AGENT_NAME
    #: ``False`` where the instrumentation records no LLM call at all (documented in the README).
    llm_steps: bool = True
    #: The instrumentation never exports the agent span of a run that raised: such a run stays
    #: pending, named after the service, with no outcome (documented in docs/ingest.md).
    raised_pending: str | None = None
    #: No span groups a task's calls: each LLM call is a trace of its own and no run (docs/ingest.md).
    no_runs: bool = False
    #: No agent span, but each task's calls carry its ``gen_ai.conversation.id``: one run per task, of
    #: all its traces, with its LLM steps only (the tools ran untraced), named after the service and
    #: with no outcome (docs/conventions.md).
    conversations: bool = False

    @property
    def id(self) -> str:
        return f"{self.env}-{self.instrumentation}"


CASES = (
    Case("langgraph", "langgraph_agent.py", "openinference"),
    Case("langgraph", "langgraph_agent.py", "openinference+openai"),
    Case("langgraph", "langgraph_agent.py", "genai"),
    Case("traceloop", "langgraph_agent.py", "traceloop"),
    Case("openai-agents", "openai_agents_agent.py", "openinference"),
    Case("openai-agents", "openai_agents_agent.py", "genai"),
    Case("pydantic-ai", "pydantic_ai_agent.py", "native"),
    # OpenInference's LlamaIndex spans name the agent's class and method, never its name.
    Case("llama-index", "llama_index_agent.py", "openinference", agent="FunctionAgent"),
    Case("llama-index", "llama_index_agent.py", "genai"),
    Case("smolagents", "smolagents_agent.py", "openinference", raised_pending="smolagents-client"),
    # openinference-crewai records no model call: with it alone a run has no LLM step.
    Case("crewai", "crewai_agent.py", "openinference", llm_steps=False),
    Case("crewai", "crewai_agent.py", "openinference+openai"),
    Case("adk", "adk_agent.py", "native"),
    Case("main", "openai_v2_alone.py", "openai-v2", no_runs=True),
    Case("main", "openai_v2_alone.py", "openai-v2+conversation", agent="openai-v2-client", conversations=True),
)




def run_client(case: Case, server: AnalyzerServer) -> tuple[list[dict], ScriptedModel]:
    python = sys.executable if case.env == "main" else envs.ensure(case.env)
    model = ScriptedModel()
    with OpenAIStandIn() as openai_server:
        openai_server.responder = model
        result = subprocess.run(
            [str(python), str(CLIENTS / case.client), case.instrumentation, server.base_url + "/v1/traces",
             openai_server.base_url],
            capture_output=True, text=True, timeout=300, check=False,
        )
    assert result.returncode == 0, result.stderr[-4000:]
    truth = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(truth) == len(plans.runs()), result.stdout[-2000:]
    assert server.await_runs()  # the client exited after its exports' acks; runs are assembled after them
    return truth, model


def mismatches(case: Case, store: SqliteStore, truth: list[dict], model: ScriptedModel) -> list[str]:
    """Every way the assembled runs differ from what ran (empty when they agree)."""
    problems = []
    for t in truth:
        runs = [r for r in (store.get_run(tid) for tid in t["traces"]) if r is not None]
        if case.no_runs:
            stored = all(store.spans_for_trace(tid) for tid in t["traces"])
            if runs or not stored or len(t["traces"]) != model.requests[t["key"]]:
                problems.append(f"{t['key']}: {len(runs)} runs from {len(t['traces'])} traces of lone calls")
            continue
        if case.conversations:
            problems += conversation_mismatches(case, t, runs, model)
            continue
        if len(runs) != 1:
            problems.append(f"{t['key']}: {len(runs)} runs ({[r.agent for r in runs]}) for one agent run")
            continue
        run: Run = runs[0]
        got_tools = [(s.name, s.ok) for s in run.steps if s.kind == "tool"]
        want_tools = [tuple(x) for x in t["tools"]]
        if t["plan"] in PARALLEL:
            got_tools, want_tools = sorted(got_tools), sorted(want_tools)
            if t["raised"]:
                # A sibling raised and the framework cancelled the other calls: the spans cannot say
                # whether a cancelled call's body ran (a worker thread may finish it), so it is no
                # step (docs/ingest.md); every call that failed on its own must be there.
                want_tools = [c for c in want_tools if c in got_tools or not c[1]]
        llm = sum(s.kind == "llm" for s in run.steps)
        want_llm = model.requests[t["key"]] if case.llm_steps else 0
        pending = bool(t["raised"]) and case.raised_pending is not None
        want_outcome = False if t["raised"] and not pending else None
        want_agent = case.raised_pending if pending else case.agent
        for what, got, want in (("agent", run.agent, want_agent), ("tools", got_tools, want_tools),
                                ("llm steps", llm, want_llm), ("outcome", run.outcome, want_outcome),
                                ("complete", run.complete, not pending)):
            if got != want:
                problems.append(f"{t['key']}: {what} {got!r}, want {want!r}")
    return problems


def conversation_mismatches(case: Case, t: dict, runs: list[Run], model: ScriptedModel) -> list[str]:
    """How the run of one task's conversation differs from what ran: every trace of the task must
    resolve to one run that lists exactly those traces, in order, with one LLM step per request (the
    last one failed when the model refused it) and nothing the spans cannot say: no tool step, no
    outcome."""
    key, plan = t["key"], t["plan"]
    if len(t["traces"]) != model.requests[key] or any(r != runs[0] for r in runs) or len(runs) != len(t["traces"]):
        return [f"{key}: {len(t['traces'])} traces resolve to {len({r.trace_id for r in runs})} runs"]
    run = runs[0]
    llm_ok = [s.ok for s in run.steps if s.kind == "llm"]
    want_ok = [True] * model.requests[key]
    if plan in plans.ERROR_PLANS:
        want_ok[-1] = False
    problems = []
    for what, got, want in (("conversation", run.conversation_id, f"travel-{key}"),
                            ("traces", run.trace_ids, tuple(t["traces"])), ("agent", run.agent, case.agent),
                            ("llm steps", llm_ok, want_ok), ("other steps", [s for s in run.steps if s.kind != "llm"], []),
                            ("outcome", run.outcome, None), ("complete", run.complete, True)):
        if got != want:
            problems.append(f"{key}: {what} {got!r}, want {want!r}")
    return problems


@pytest.mark.slow
# make test-deps builds the venvs first; without it the test builds its own (CrewAI's takes minutes).
@pytest.mark.timeout(1200)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_framework_runs_match_what_ran(case: Case, analyzer):
    server, store = analyzer
    truth, model = run_client(case, server)
    assert model.untagged == 0
    assert sum(1 for t in truth if t["raised"]) >= 3  # the scripted failures reached the agent
    assert mismatches(case, store, truth, model) == []
    if case.conversations:
        assert store.count_runs() == len(plans.runs())
