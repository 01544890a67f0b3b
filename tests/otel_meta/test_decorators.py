"""@agent, @tool, thinking() and set_outcome() on sync, async and generator functions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import otel_meta
from otel_meta import _runtime
from otel_meta import semconv as sc
from tests.otel_meta.conftest import only_span


class PodsUnavailable(RuntimeError):
    pass


@otel_meta.tool
def get_pods(namespace: str) -> list[str]:
    return [f"{namespace}/web-1"]


@otel_meta.tool("read_logs")
def logs(pod: str, *, lines: int = 10) -> str:
    if pod == "broken":
        raise PodsUnavailable(pod)
    return "ok"


@otel_meta.tool
async def fetch_metrics(name: str) -> float:
    await asyncio.sleep(0)
    return 0.5


@otel_meta.agent("diagnosis")
def diagnose(namespace: str) -> list[str]:
    otel_meta.thinking("Pods first, then logs.", tool_choice="get_pods", justification="cheap")
    pods = get_pods(namespace)
    logs(pods[0])
    otel_meta.set_outcome(True, submission="db connection issue")
    return pods


def _parents(exporter: InMemorySpanExporter) -> dict[str, str | None]:
    spans = exporter.get_finished_spans()
    names = {s.context.span_id: s.name for s in spans}
    return {s.name: names.get(s.parent.span_id) if s.parent else None for s in spans}


def _by_name(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    return {s.name: s for s in exporter.get_finished_spans()}


def test_agent_run_with_tools_thinking_and_outcome(instrumented: None, exporter: InMemorySpanExporter) -> None:
    assert diagnose("shop") == ["shop/web-1"]
    spans = _by_name(exporter)
    run = spans["invoke_agent diagnosis"]
    assert run.kind is SpanKind.INTERNAL
    assert run.attributes[sc.GEN_AI_OPERATION_NAME] == sc.OP_INVOKE_AGENT
    assert run.attributes[sc.GEN_AI_AGENT_NAME] == "diagnosis"
    assert run.attributes[sc.OTEL_META_OUTCOME] == sc.OUTCOME_SUCCESS
    assert sc.OTEL_META_SUBMISSION not in run.attributes
    tool = spans["execute_tool get_pods"]
    assert dict(tool.attributes) == {sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL, sc.GEN_AI_TOOL_NAME: "get_pods",
                                     sc.GEN_AI_TOOL_TYPE: sc.TOOL_TYPE_FUNCTION}
    think = spans["think diagnosis"]
    assert think.attributes[sc.GEN_AI_OPERATION_NAME] == sc.OP_THINK
    assert think.attributes[sc.GEN_AI_AGENT_NAME] == "diagnosis"
    assert think.attributes[sc.OTEL_META_THINKING_TOOL_CHOICE] == "get_pods"
    assert think.attributes[sc.OTEL_META_THINKING_CHARS] == len("Pods first, then logs.")
    assert sc.OTEL_META_THINKING_REASONING not in think.attributes
    assert _parents(exporter) == {"think diagnosis": "invoke_agent diagnosis",
                                  "execute_tool get_pods": "invoke_agent diagnosis",
                                  "execute_tool read_logs": "invoke_agent diagnosis",
                                  "invoke_agent diagnosis": None}


def test_tool_exception_marks_failure_and_propagates(instrumented: None, exporter: InMemorySpanExporter) -> None:
    with pytest.raises(PodsUnavailable) as raised:
        logs("broken")
    assert raised.value.args == ("broken",)
    span = only_span(exporter)
    assert span.attributes[sc.ERROR_TYPE] == "PodsUnavailable"
    assert span.status.status_code is StatusCode.ERROR
    [event] = span.events
    assert event.name == sc.EXCEPTION_EVENT
    assert dict(event.attributes) == {sc.EXCEPTION_TYPE: f"{__name__}.PodsUnavailable"}


def test_tool_exception_message_is_recorded_only_with_capture_on(
    instrument: Any, exporter: InMemorySpanExporter
) -> None:
    instrument(capture_content=True)
    with pytest.raises(PodsUnavailable):
        logs("broken")
    [event] = only_span(exporter).events
    assert event.attributes[sc.EXCEPTION_MESSAGE] == "broken"
    assert "exception.stacktrace" not in event.attributes


def test_agent_exception_is_failure_unless_outcome_set(instrumented: None, exporter: InMemorySpanExporter) -> None:
    @otel_meta.agent(otel_meta.AgentType.MITIGATION)
    def mitigate() -> None:
        logs("broken")

    with pytest.raises(PodsUnavailable):
        mitigate()
    run = _by_name(exporter)["invoke_agent mitigation"]
    assert run.status.status_code is StatusCode.ERROR
    assert run.attributes[sc.OTEL_META_OUTCOME] == sc.OUTCOME_FAILURE


def test_async_agent_keeps_parents_across_await_gather_and_tasks(
    instrumented: None, exporter: InMemorySpanExporter
) -> None:
    @otel_meta.agent("localization")
    async def localize() -> float:
        first = await fetch_metrics("cpu")
        both = await asyncio.gather(fetch_metrics("mem"), fetch_metrics("io"))
        task = asyncio.create_task(fetch_metrics("net"))
        otel_meta.thinking("all metrics in")
        return first + sum(both) + await task

    assert asyncio.run(localize()) == 2.0
    spans = exporter.get_finished_spans()
    run = next(s for s in spans if s.name == "invoke_agent localization")
    children = [s for s in spans if s is not run]
    assert len(children) == 5
    assert {s.parent.span_id for s in children if s.parent} == {run.context.span_id}
    assert {s.context.trace_id for s in spans} == {run.context.trace_id}


def test_thread_pool_workers_keep_the_parent(instrumented: None, exporter: InMemorySpanExporter) -> None:
    @otel_meta.agent("diagnosis")
    def fan_out() -> list[list[str]]:
        with ThreadPoolExecutor(max_workers=2) as pool:
            return list(pool.map(get_pods, ["a", "b", "c"]))

    fan_out()
    spans = exporter.get_finished_spans()
    run = next(s for s in spans if s.name.startswith("invoke_agent"))
    tools = [s for s in spans if s.name == "execute_tool get_pods"]
    assert len(tools) == 3
    assert all(s.parent is not None and s.parent.span_id == run.context.span_id for s in tools)


def test_generators_are_one_span_each_and_parent_their_steps(
    instrumented: None, exporter: InMemorySpanExporter
) -> None:
    @otel_meta.agent("diagnosis")
    def steps() -> Iterator[str]:
        yield get_pods("a")[0]
        otel_meta.thinking("next")
        yield get_pods("b")[0]

    @otel_meta.tool
    async def tail(n: int) -> AsyncIterator[int]:
        for i in range(n):
            yield i

    assert list(steps()) == ["a/web-1", "b/web-1"]

    async def consume() -> list[int]:
        return [i async for i in tail(3)]

    assert asyncio.run(consume()) == [0, 1, 2]
    parents = _parents(exporter)
    assert parents["execute_tool get_pods"] == "invoke_agent diagnosis"
    assert parents["think diagnosis"] == "invoke_agent diagnosis"
    assert parents["execute_tool tail"] is None
    assert len(exporter.get_finished_spans()) == 5


def test_generator_closed_early_ends_its_span(instrumented: None, exporter: InMemorySpanExporter) -> None:
    @otel_meta.tool
    def numbers() -> Iterator[int]:
        yield from range(100)

    gen = numbers()
    assert next(gen) == 0
    gen.close()
    span = only_span(exporter)
    assert span.status.status_code is StatusCode.UNSET


def test_generator_exception_propagates(instrumented: None, exporter: InMemorySpanExporter) -> None:
    @otel_meta.tool
    def failing() -> Iterator[int]:
        yield 1
        raise PodsUnavailable("x")

    with pytest.raises(PodsUnavailable):
        list(failing())
    assert only_span(exporter).attributes[sc.ERROR_TYPE] == "PodsUnavailable"


def test_capture_on_records_tool_arguments_result_and_reasoning(
    instrument: Any, exporter: InMemorySpanExporter
) -> None:
    instrument(capture_content=True)
    diagnose("shop")
    spans = _by_name(exporter)
    tool = spans["execute_tool read_logs"]
    assert json.loads(tool.attributes[sc.GEN_AI_TOOL_CALL_ARGUMENTS]) == {"pod": "shop/web-1"}
    assert json.loads(tool.attributes[sc.GEN_AI_TOOL_CALL_RESULT]) == "ok"
    think = spans["think diagnosis"]
    assert think.attributes[sc.OTEL_META_THINKING_REASONING] == "Pods first, then logs."
    assert think.attributes[sc.OTEL_META_THINKING_JUSTIFICATION] == "cheap"
    assert spans["invoke_agent diagnosis"].attributes[sc.OTEL_META_SUBMISSION] == "db connection issue"


def test_active_prompt_is_stamped_on_later_agent_spans(instrumented: None, exporter: InMemorySpanExporter) -> None:
    @otel_meta.agent("triage")
    def triage() -> None:
        return None

    triage()
    _runtime.set_active_prompt("1.2.0", "abc123")
    triage()
    _runtime.set_active_prompt("2.0.0", "def456", agent="other")
    triage()
    first, second, third = exporter.get_finished_spans()
    assert sc.OTEL_META_PROMPT_VERSION not in first.attributes
    for span in (second, third):
        assert span.attributes[sc.OTEL_META_PROMPT_VERSION] == "1.2.0"
        assert span.attributes[sc.OTEL_META_PROMPT_COMMIT] == "abc123"
    _runtime.STATE.prompts.clear()
    _runtime._context_prompts.set(None)


def test_problem_context_on_decorated_agent(instrumented: None, exporter: InMemorySpanExporter) -> None:
    problem = otel_meta.ProblemContext("p-1", "shop", "shop-ns", "an online shop")

    @otel_meta.agent("diagnosis", problem=problem)
    def run() -> None:
        return None

    run()
    attrs = only_span(exporter).attributes
    assert attrs[sc.OTEL_META_PROBLEM_ID] == "p-1"
    assert attrs[sc.OTEL_META_APP_NAME] == "shop"
    assert attrs[sc.OTEL_META_APP_NAMESPACE] == "shop-ns"
    assert attrs[sc.OTEL_META_APP_DESCRIPTION] == "an online shop"
