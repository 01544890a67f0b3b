"""assemble_run over the span shapes of the framework instrumentations (plain SpanRecords).

The shapes are those the framework tests (``frameworks/test_frameworks.py``) record from the real
instrumentations; these tests pin each rule on its own.
"""

from __future__ import annotations

import json

import pytest

from analyzers.conventions import (
    OutcomeRule,
    assemble_conversation,
    assemble_run,
    configured_rule,
    conversation_of,
)
from analyzers.model import SpanEvent, SpanRecord
from otel_meta import semconv as sc

T = "cd" * 16
OI, TL, OP = sc.OPENINFERENCE_SPAN_KIND, sc.TRACELOOP_SPAN_KIND, sc.GEN_AI_OPERATION_NAME


def span(i: int, name: str, parent: int | None, attrs: dict, *, status: int = 0, message: str = "",
         events: tuple = ()) -> SpanRecord:
    return SpanRecord(T, f"{i:016x}", None if parent is None else f"{parent:016x}", name, 1, i * 1000,
                      i * 1000 + 500, attrs, events=events, status_code=status, status_message=message,
                      resource_attributes={sc.SERVICE_NAME: "svc"})


def steps(run) -> list[tuple[str, str, bool]]:
    return [(s.kind, s.name, s.ok) for s in run.steps]


def test_gen_ai_operation_is_read_before_traceloop_kind_and_a_task_is_no_tool():
    run = assemble_run([
        span(1, "invoke_agent a", None, {OP: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: "a"}),
        span(2, "execute_task model", 1, {OP: "execute_task", TL: "task", sc.TRACELOOP_ENTITY_NAME: "model"}),
        span(3, "tools.task", 1, {TL: "task", sc.TRACELOOP_ENTITY_NAME: "tools"}),
        span(4, "execute_tool get_weather", 3, {OP: sc.OP_EXECUTE_TOOL, TL: "tool",
                                                sc.GEN_AI_TOOL_NAME: "get_weather"}),
    ])
    assert run.agent == "a" and steps(run) == [("tool", "get_weather", True)]


def test_a_nameless_root_agent_loses_to_the_named_agent_beneath_it():
    run = assemble_run([  # openinference-openai-agents
        span(1, "Agent workflow", None, {OI: "AGENT"}),
        span(2, "Agent workflow", 1, {OI: "CHAIN"}),
        span(3, "travel_agent", 2, {OI: "AGENT", sc.OPENINFERENCE_AGENT_NAME: "travel_agent"}),
    ])
    assert run.agent == "travel_agent"
    run = assemble_run([  # the official genai-openai-agents, default workflow name
        span(1, "invoke_workflow Agent workflow", None, {OP: sc.OP_INVOKE_WORKFLOW,
                                                         sc.GEN_AI_WORKFLOW_NAME: "Agent workflow"}),
        span(2, "invoke_agent travel_agent", 1, {OP: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: "travel_agent"}),
    ])
    assert run.agent == "travel_agent"


def test_a_named_workflow_is_the_outer_agent():
    run = assemble_run([
        span(1, "invoke_workflow trips", None, {OP: sc.OP_INVOKE_WORKFLOW, sc.GEN_AI_WORKFLOW_NAME: "trips"}),
        span(2, "invoke_agent travel_agent", 1, {OP: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: "travel_agent"}),
    ])
    assert run.agent == "trips"


def test_an_agent_named_only_by_a_method_span_is_named_by_its_owner():
    run = assemble_run([  # smolagents ``{name}.run``, LlamaIndex ``FunctionAgent.run`` (a CHAIN)
        span(1, "travel_agent.run", None, {OI: "AGENT"}),
        span(2, "Step 1", 1, {OI: "CHAIN"}),
    ])
    assert run.agent == "travel_agent"
    assert assemble_run([span(1, "FunctionAgent.run", None, {OI: "CHAIN"}),
                         span(2, "t", 1, {OI: "TOOL", sc.OPENINFERENCE_TOOL_NAME: "t"})]).agent == "FunctionAgent"


def test_a_crash_on_an_inner_agent_span_fails_the_run_but_a_failed_chain_step_does_not():
    def trace(inner_kind: str) -> list[SpanRecord]:
        return [span(1, "Agent workflow", None, {OI: "AGENT"}),
                span(2, "inner", 1, {OI: inner_kind, sc.OPENINFERENCE_AGENT_NAME: "x"} if inner_kind == "AGENT"
                     else {OI: inner_kind}, status=2, message="boom")]
    run = assemble_run(trace("AGENT"))
    assert (run.outcome, run.outcome_source) == (False, "span")
    assert assemble_run(trace("CHAIN")).outcome is None


def test_error_type_comes_from_the_status_message_when_nothing_else_carries_it():
    run = assemble_run([
        span(1, "a", None, {OI: "AGENT", sc.OPENINFERENCE_AGENT_NAME: "a"}),
        span(2, "t1", 1, {OI: "TOOL", sc.OPENINFERENCE_TOOL_NAME: "t1"}, status=2,
             message="ValueError: forecasts reach 7 days at most"),
        span(3, "t2", 1, {OI: "TOOL", sc.OPENINFERENCE_TOOL_NAME: "t2"}, status=2,
             message="Error running tool (non-fatal): {'tool_name': 't2'}"),
        span(4, "t3", 1, {OI: "TOOL", sc.OPENINFERENCE_TOOL_NAME: "t3"}, status=2,
             events=(SpanEvent("exception", 1, {sc.EXCEPTION_TYPE: "LookupError"}),)),
    ])
    assert [s.error_type for s in run.steps] == ["ValueError", sc.ERROR_TYPE_OTHER, "LookupError"]


@pytest.mark.parametrize("key", [sc.GEN_AI_TOOL_CALL_ARGUMENTS, sc.OPENINFERENCE_INPUT_VALUE,
                                 sc.TRACELOOP_ENTITY_INPUT])
def test_tool_arguments_are_read_from_every_convention(key):
    def tool(i: int, city: str) -> SpanRecord:
        return span(i, "t", 1, {OI: "TOOL", sc.OPENINFERENCE_TOOL_NAME: "t", key: json.dumps({"city": city})})
    run = assemble_run([span(1, "a", None, {OI: "AGENT"}), tool(2, "Rome"), tool(3, "Rome"), tool(4, "Oslo")])
    digests = [s.args_digest for s in run.steps]
    assert digests[0] is not None and digests[0] == digests[1] != digests[2]


def test_third_party_model_reasoning_is_a_thinking_step_and_otel_metas_stays_on_the_llm_step():
    reasoning = json.dumps([{"role": "assistant", "parts": [{"type": "reasoning", "content": "x" * 40},
                                                            {"type": "text", "content": "hi"}]}])
    run = assemble_run([
        span(1, "invoke_agent a", None, {OP: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: "a"}),
        span(2, "chat m", 1, {OP: sc.OP_CHAT, sc.GEN_AI_REQUEST_MODEL: "m", sc.GEN_AI_OUTPUT_MESSAGES: reasoning}),
        span(3, "ChatOpenAI", 1, {OI: "LLM", sc.OPENINFERENCE_LLM_MODEL_NAME: "m",
                                  sc.OPENINFERENCE_REASONING_TOKENS: 12}),
        span(4, "chat m", 1, {OP: sc.OP_CHAT, sc.GEN_AI_REQUEST_MODEL: "m", sc.OTEL_META_REASONING_CHARS: 9,
                              sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 3}),
        span(5, "chat m", 1, {OP: sc.OP_CHAT, sc.GEN_AI_REQUEST_MODEL: "m", sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 0}),
    ])
    assert [(s.kind, s.name, s.chars) for s in run.steps] == [
        ("thinking", "reasoning", 40), ("llm", "m", None), ("thinking", "reasoning", None), ("llm", "m", None),
        ("llm", "m", 9), ("llm", "m", None)]


def test_nested_llm_spans_are_one_request_and_a_private_helper_is_none():
    run = assemble_run([  # LlamaIndex + OpenInference (with the openai instrumentor too)
        span(1, "FunctionAgent.run", None, {OI: "CHAIN"}),
        span(2, "OpenAI._prepare_chat_with_tools", 1, {OI: "LLM", sc.OPENINFERENCE_LLM_MODEL_NAME: "m"}),
        span(3, "OpenAI.astream_chat", 1, {OI: "LLM", sc.OPENINFERENCE_LLM_MODEL_NAME: "m"}),
        span(4, "ChatCompletion", 3, {OI: "LLM", sc.OPENINFERENCE_LLM_MODEL_NAME: "m-2024"}),
        span(5, "FunctionTool.acall", 1, {OI: "TOOL", sc.OPENINFERENCE_TOOL_NAME: "t"}),
        span(6, "t", 5, {OI: "TOOL", sc.OPENINFERENCE_TOOL_NAME: "t"}),
    ])
    assert steps(run) == [("llm", "m-2024", True), ("tool", "t", True)]


def test_framework_tools_and_cancelled_calls_are_no_steps():
    cancelled = SpanEvent("exception", 1, {sc.EXCEPTION_TYPE: "asyncio.exceptions.CancelledError"})
    run = assemble_run([
        span(1, "invoke_agent a", None, {OP: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: "a"}),
        span(2, "execute_tool (merged tools)", 1, {OP: sc.OP_EXECUTE_TOOL, sc.GEN_AI_TOOL_NAME: "(merged tools)"}),
        span(3, "execute_tool t", 1, {OP: sc.OP_EXECUTE_TOOL, sc.GEN_AI_TOOL_NAME: "t"}),
        span(4, "FinalAnswerTool", 1, {OI: "TOOL", sc.OPENINFERENCE_TOOL_NAME: "final_answer"}),
        span(5, "execute_tool u", 1, {OP: sc.OP_EXECUTE_TOOL, sc.GEN_AI_TOOL_NAME: "u"}, status=2, events=(cancelled,)),
    ])
    assert steps(run) == [("tool", "t", True)]


def test_a_trace_of_lone_llm_calls_is_no_run():
    chat = {OP: sc.OP_CHAT, sc.GEN_AI_REQUEST_MODEL: "m", sc.GEN_AI_CONVERSATION_ID: "conv-1"}
    assert assemble_run([span(1, "chat m", None, chat)]) is None  # openai-v2 alone, or an orphan call
    pending = assemble_run([span(2, "chat m", 1, chat)])  # its agent span has not arrived yet
    assert pending is not None and not pending.complete
    with_tool = assemble_run([span(1, "chat m", None, chat),
                              span(2, "execute_tool t", None, {OP: sc.OP_EXECUTE_TOOL, sc.GEN_AI_TOOL_NAME: "t"})])
    assert with_tool is not None and with_tool.agent == "svc"


def test_which_traces_join_their_conversation():
    chat = {OP: sc.OP_CHAT, sc.GEN_AI_REQUEST_MODEL: "m", sc.GEN_AI_CONVERSATION_ID: "conv-1"}
    assert conversation_of([span(1, "chat m", None, chat)]) == "conv-1"  # openai-v2 alone
    assert conversation_of([span(2, "chat m", 1, chat)]) is None  # its root (maybe an agent) has not arrived
    assert conversation_of([span(1, "POST /chat", None, {}), span(2, "chat m", 1, chat)]) == "conv-1"
    agent = span(1, "invoke_agent a", None, {**chat, OP: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: "a"})
    assert conversation_of([agent, span(2, "chat m", 1, chat)]) is None  # a run of its own
    chain = span(1, "RunnableSequence", None, {OI: "CHAIN"})
    assert conversation_of([chain, span(2, "chat m", 1, chat)]) is None
    assert conversation_of([span(1, "chat m", None, {OP: sc.OP_CHAT})]) is None
    later = span(3, "chat m", None, {**chat, sc.GEN_AI_CONVERSATION_ID: "conv-2"})
    assert conversation_of([later, span(1, "chat m", None, chat)]) == "conv-1"  # its earliest span's


def test_a_conversations_run_takes_the_latest_outcome_label_and_no_agent_failure():
    def call(trace: str, i: int, **attrs: object) -> SpanRecord:
        return SpanRecord(trace, f"{i:016x}", None, "chat m", 3, i * 1000, i * 1000 + 500,
                          {OP: sc.OP_CHAT, sc.GEN_AI_REQUEST_MODEL: "m", **attrs},
                          resource_attributes={sc.SERVICE_NAME: "svc"})
    first = [call("b" * 32, 1, **{sc.OTEL_META_OUTCOME: sc.OUTCOME_FAILURE, sc.OTEL_META_PROMPT_VERSION: "1.0.0"})]
    second = [call("a" * 32, 5, **{sc.OTEL_META_OUTCOME: sc.OUTCOME_SUCCESS})]
    failed = [call("c" * 32, 9, **{sc.ERROR_TYPE: "BadRequestError"})]
    run = assemble_conversation("conv", [failed, second, first])
    assert (run.trace_id, run.trace_ids) == ("b" * 32, ("b" * 32, "a" * 32, "c" * 32))
    assert (run.outcome, run.outcome_source, run.prompt_version, run.agent) == (True, "span", "1.0.0", "svc")
    assert [s.ok for s in run.steps] == [True, True, False] and run.complete
    alone = assemble_conversation("conv", [failed])
    assert (alone.outcome, alone.outcome_source) == (None, None)  # a failed call is not a failed task
    assert assemble_conversation("conv", [failed], api_outcome=True).outcome_source == "api"
    assert assemble_conversation("conv", [[]]) is None


def test_outcome_rule_parses_and_says_what_is_wrong():
    rule = OutcomeRule.parse("names=task_success|helpful, threshold=0.5, success=good")
    assert rule == OutcomeRule(names=("task_success", "helpful"), threshold=0.5, success_labels=("good",))
    with pytest.raises(ValueError, match="expected one of names="):
        OutcomeRule.parse("name=x")
    with pytest.raises(ValueError, match="threshold 'high' is not a number"):
        OutcomeRule.parse("threshold=high")


def test_the_configured_rule_maps_evaluation_events_and_a_bad_setting_never_stops_assembly(monkeypatch, caplog):
    graded = SpanEvent(sc.EVENT_EVALUATION_RESULT, 7, {sc.GEN_AI_EVALUATION_NAME: "grader",
                                                       sc.GEN_AI_EVALUATION_SCORE_VALUE: 0.4})
    trace = [span(1, "invoke_agent a", None, {OP: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: "a"}, events=(graded,))]
    assert assemble_run(trace).outcome is None  # the default rule reads labels, and there is none
    monkeypatch.setenv("OTEL_META_OUTCOME_RULE", "names=grader,threshold=0.3")
    run = assemble_run(trace)
    assert (run.outcome, run.outcome_source) == (True, "evaluation")
    monkeypatch.setenv("OTEL_META_OUTCOME_RULE", "threshold=soon")
    with pytest.raises(ValueError, match="OTEL_META_OUTCOME_RULE: outcome rule threshold"):
        configured_rule()
    with caplog.at_level("WARNING"):
        assert assemble_run(trace).outcome is None
    assert "using the default outcome rule" in caplog.text
