"""Every span, event and attribute name otel-meta writes or reads.

Nothing else in the project spells an attribute name: the instrumentation writes these constants and the
analyzer reads them. The GenAI names follow the OpenTelemetry GenAI semantic conventions (status
"Development"), as released in the ``semantic-conventions-genai`` repository (version below), on top
of the core semantic conventions version below. otel-meta's own names live under ``otel_meta.``.

The second half of the module lists the names other instrumentations use (OpenInference, OpenLLMetry and
the older GenAI names), which the analyzer's conventions layer reads but otel-meta never writes.
"""

from __future__ import annotations

from typing import Final

#: The GenAI conventions this module follows: the first standalone release of
#: github.com/open-telemetry/semantic-conventions-genai (v0.1.0). What otel-meta's spans do about it:
#: - agent runs are ``invoke_agent {agent}`` INTERNAL spans (``gen_ai.invoke_agent.internal``, into which
#:   0.1.0 merged ``invoke_workflow``); otel-meta writes no ``gen_ai.agent.id`` there (0.1.0 removed it)
#:   and no ``gen_ai.provider.name`` (required there, but a hand-written agent's decorator does not know
#:   which provider the agent calls; its LLM spans carry it);
#: - tool calls are ``execute_tool {tool}`` INTERNAL spans with ``gen_ai.tool.name``, ``gen_ai.tool.type``
#:   (``function``), ``gen_ai.tool.call.id`` when known, ``error.type`` + status ERROR on failure and an
#:   ``exception`` span event (``exception.type``; ``exception.message`` only with content capture on);
#: - thinking steps are otel-meta's own ``think`` operation: the conventions' ``plan`` span is for a
#:   planning phase an instrumentation can tell apart from reasoning, which ``thinking()`` does not claim;
#:   the analyzer reads both as thinking steps;
#: - LLM calls are ``chat {model}`` CLIENT spans (``gen_ai.inference.client``, the OpenAI refinement).
GENAI_CONVENTIONS_VERSION: Final = "0.1.0"
#: The core semantic conventions version GenAI 0.1.0 depends on (``error.type``, ``server.*``,
#: ``exception.*``).
CORE_CONVENTIONS_VERSION: Final = "1.45.0"
#: The schema URL passed to ``get_tracer``.
SCHEMA_URL: Final = "https://opentelemetry.io/schemas/1.45.0"

# --- gen_ai.* (OpenTelemetry GenAI semantic conventions) ---------------------------------------------
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P: Final = "gen_ai.request.top_p"
GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_SEED: Final = "gen_ai.request.seed"
GEN_AI_REQUEST_STREAM: Final = "gen_ai.request.stream"
GEN_AI_REQUEST_CHOICE_COUNT: Final = "gen_ai.request.choice.count"
GEN_AI_REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_FREQUENCY_PENALTY: Final = "gen_ai.request.frequency_penalty"
GEN_AI_REQUEST_PRESENCE_PENALTY: Final = "gen_ai.request.presence_penalty"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_OUTPUT_TYPE: Final = "gen_ai.output.type"
GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
GEN_AI_SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"
GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
GEN_AI_WORKFLOW_NAME: Final = "gen_ai.workflow.name"

GEN_AI_AGENT_NAME: Final = "gen_ai.agent.name"
GEN_AI_AGENT_ID: Final = "gen_ai.agent.id"
GEN_AI_AGENT_VERSION: Final = "gen_ai.agent.version"
GEN_AI_AGENT_DESCRIPTION: Final = "gen_ai.agent.description"

GEN_AI_TOOL_NAME: Final = "gen_ai.tool.name"
GEN_AI_TOOL_TYPE: Final = "gen_ai.tool.type"
GEN_AI_TOOL_DESCRIPTION: Final = "gen_ai.tool.description"
GEN_AI_TOOL_CALL_ID: Final = "gen_ai.tool.call.id"
GEN_AI_TOOL_CALL_ARGUMENTS: Final = "gen_ai.tool.call.arguments"
GEN_AI_TOOL_CALL_RESULT: Final = "gen_ai.tool.call.result"

GEN_AI_EVALUATION_NAME: Final = "gen_ai.evaluation.name"
GEN_AI_EVALUATION_SCORE_VALUE: Final = "gen_ai.evaluation.score.value"
GEN_AI_EVALUATION_SCORE_LABEL: Final = "gen_ai.evaluation.score.label"
GEN_AI_EVALUATION_EXPLANATION: Final = "gen_ai.evaluation.explanation"

# gen_ai.operation.name values
OP_CHAT: Final = "chat"
OP_TEXT_COMPLETION: Final = "text_completion"
OP_GENERATE_CONTENT: Final = "generate_content"
OP_EMBEDDINGS: Final = "embeddings"
OP_INVOKE_AGENT: Final = "invoke_agent"
OP_INVOKE_WORKFLOW: Final = "invoke_workflow"
OP_CREATE_AGENT: Final = "create_agent"
OP_EXECUTE_TOOL: Final = "execute_tool"
#: The conventions' planning phase; the analyzer reads it as a thinking step.
OP_PLAN: Final = "plan"
#: otel-meta's own value for a thinking step (not in the conventions).
OP_THINK: Final = "think"
#: The operations whose span is an LLM call.
LLM_OPERATIONS: Final = frozenset({OP_CHAT, OP_TEXT_COMPLETION, OP_GENERATE_CONTENT})

PROVIDER_OPENAI: Final = "openai"
TOOL_TYPE_FUNCTION: Final = "function"

# Event names
EVENT_EVALUATION_RESULT: Final = "gen_ai.evaluation.result"
EVENT_INFERENCE_DETAILS: Final = "gen_ai.client.inference.operation.details"
#: The older per-message event form of captured input (``content`` holds the message's text).
EVENT_USER_MESSAGE: Final = "gen_ai.user.message"
EVENT_CONTENT: Final = "content"
#: The role of a user message in ``gen_ai.input.messages``.
ROLE_USER: Final = "user"
EVALUATION_REASONING_QUALITY: Final = "reasoning_quality"
LABEL_OK: Final = "ok"
LABEL_DEEPEN: Final = "deepen"
LABEL_REPLAN: Final = "replan"

# Output message part type for reasoning text
PART_TYPE_REASONING: Final = "reasoning"
PART_TYPE_TEXT: Final = "text"
PART_TYPE_TOOL_CALL: Final = "tool_call"
PART_TYPE_TOOL_CALL_RESPONSE: Final = "tool_call_response"

# --- core conventions ---------------------------------------------------------------------------------
ERROR_TYPE: Final = "error.type"
ERROR_TYPE_OTHER: Final = "_OTHER"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
SERVICE_NAME: Final = "service.name"
EXCEPTION_EVENT: Final = "exception"
EXCEPTION_TYPE: Final = "exception.type"
EXCEPTION_MESSAGE: Final = "exception.message"
#: The attribute older OTel SDKs put an event log record's name in (newer ones use LogRecord.event_name).
EVENT_NAME: Final = "event.name"

# --- otel_meta.* (our own attributes) -----------------------------------------------------------------
OTEL_META_OUTCOME: Final = "otel_meta.outcome"
OUTCOME_SUCCESS: Final = "success"
OUTCOME_FAILURE: Final = "failure"
OTEL_META_SUBMISSION: Final = "otel_meta.submission"
OTEL_META_PROMPT_VERSION: Final = "otel_meta.prompt.version"
OTEL_META_PROMPT_COMMIT: Final = "otel_meta.prompt.commit"
#: ``stable`` or ``candidate`` while a candidate version rolls out (absent when no rollout is set up).
OTEL_META_PROMPT_ROLE: Final = "otel_meta.prompt.role"
PROMPT_ROLE_STABLE: Final = "stable"
PROMPT_ROLE_CANDIDATE: Final = "candidate"
OTEL_META_PROBLEM_ID: Final = "otel_meta.problem.id"
OTEL_META_APP_NAME: Final = "otel_meta.app.name"
OTEL_META_APP_NAMESPACE: Final = "otel_meta.app.namespace"
OTEL_META_APP_DESCRIPTION: Final = "otel_meta.app.description"
OTEL_META_REQUEST_ID: Final = "otel_meta.request.id"
OTEL_META_RUN_ID: Final = "otel_meta.run.id"
OTEL_META_THINKING_TOOL_CHOICE: Final = "otel_meta.thinking.tool_choice"
OTEL_META_THINKING_CHARS: Final = "otel_meta.thinking.chars"
OTEL_META_THINKING_REASONING: Final = "otel_meta.thinking.reasoning"
OTEL_META_THINKING_JUSTIFICATION: Final = "otel_meta.thinking.justification"
OTEL_META_RESPONSE_TOOL_CALLS: Final = "otel_meta.response.tool_calls"
OTEL_META_RESPONSE_TOOL_CALL_IDS: Final = "otel_meta.response.tool_call_ids"
OTEL_META_REASONING_CHARS: Final = "otel_meta.reasoning.chars"
OTEL_META_TOOL_SUCCESS: Final = "otel_meta.tool.success"

# --- names other instrumentations write (read by analyzers.conventions only) --------------------------
# Older GenAI conventions (<= v1.36), still written by many instrumentations.
GEN_AI_SYSTEM_LEGACY: Final = "gen_ai.system"
GEN_AI_USAGE_PROMPT_TOKENS_LEGACY: Final = "gen_ai.usage.prompt_tokens"
GEN_AI_USAGE_COMPLETION_TOKENS_LEGACY: Final = "gen_ai.usage.completion_tokens"

# OpenInference (Arize)
OPENINFERENCE_SPAN_KIND: Final = "openinference.span.kind"
OPENINFERENCE_KIND_AGENT: Final = "AGENT"
OPENINFERENCE_KIND_TOOL: Final = "TOOL"
OPENINFERENCE_KIND_LLM: Final = "LLM"
OPENINFERENCE_KIND_CHAIN: Final = "CHAIN"
OPENINFERENCE_TOOL_NAME: Final = "tool.name"
OPENINFERENCE_AGENT_NAME: Final = "agent.name"
OPENINFERENCE_LLM_MODEL_NAME: Final = "llm.model_name"
OPENINFERENCE_LLM_PROVIDER: Final = "llm.provider"
OPENINFERENCE_INPUT_VALUE: Final = "input.value"
#: The agent's name on OpenInference's CrewAI and OpenAI Agents SDK agent spans.
OPENINFERENCE_GRAPH_NODE_ID: Final = "graph.node.id"
OPENINFERENCE_REASONING_TOKENS: Final = "llm.token_count.completion_details.reasoning"

# OpenLLMetry (Traceloop)
TRACELOOP_SPAN_KIND: Final = "traceloop.span.kind"
TRACELOOP_KIND_WORKFLOW: Final = "workflow"
TRACELOOP_KIND_AGENT: Final = "agent"
TRACELOOP_KIND_TOOL: Final = "tool"
TRACELOOP_KIND_TASK: Final = "task"
TRACELOOP_ENTITY_NAME: Final = "traceloop.entity.name"
TRACELOOP_WORKFLOW_NAME: Final = "traceloop.workflow.name"
TRACELOOP_ENTITY_INPUT: Final = "traceloop.entity.input"
TRACELOOP_REASONING_TOKENS: Final = "gen_ai.usage.reasoning_tokens"
LLM_REQUEST_TYPE: Final = "llm.request.type"
#: The ``llm.request.type`` values of an LLM call.
LLM_REQUEST_TYPES_LLM: Final = frozenset({"chat", "completion"})
