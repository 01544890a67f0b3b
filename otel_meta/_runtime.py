"""Process-wide instrumentation state: the tracer, the content policy, the active prompt version and the
current agent run (kept in the OTel context, so it follows the span across tasks and threads)."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, Tracer, TracerProvider

from otel_meta import _config, semconv
from otel_meta._content import ContentPolicy

_TRACER_NAME = "otel_meta"
_VERSION = "0.1.0"
_AGENT_KEY = otel_context.create_key("otel_meta.agent")


@dataclass
class AgentFrame:
    """The agent run in progress in this context: its name and span."""

    name: str
    span: Span
    outcome_set: bool = False


@dataclass(frozen=True)
class ActivePrompt:
    """The prompt version stamped on the agent runs that follow. ``choose`` (a candidate rollout) gives
    the version of one run from its trace id."""

    version: str
    commit: str
    role: str | None = None
    choose: Callable[[int], ActivePrompt] | None = None

    def for_trace(self, trace_id: int) -> ActivePrompt:
        return self.choose(trace_id) if self.choose is not None else self


def env_policy() -> ContentPolicy:
    """The content policy the environment asks for (no redaction hook)."""
    return ContentPolicy(_config.capture_mode(), None, _config.max_content_length())


@dataclass
class _State:
    instrumented: bool = False
    tracer_provider: TracerProvider | None = None
    tracer: Tracer | None = None
    policy: ContentPolicy = field(default_factory=env_policy)
    prompts: dict[str | None, ActivePrompt] = field(default_factory=dict)


STATE = _State()
_LOCK = threading.RLock()
_context_prompts: contextvars.ContextVar[dict[str | None, ActivePrompt] | None] = contextvars.ContextVar(
    "otel_meta_prompts", default=None
)


def lock() -> threading.RLock:
    """The lock that serialises instrument()/uninstrument()."""
    return _LOCK


def tracer() -> Tracer:
    """The tracer of the provider handed to ``instrument()``, else one bound lazily to the global."""
    t = STATE.tracer
    if t is None:
        t = trace.get_tracer(_TRACER_NAME, _VERSION, schema_url=semconv.SCHEMA_URL)
        STATE.tracer = t
    return t


def bind(provider: TracerProvider | None, policy: ContentPolicy) -> None:
    """Use ``provider`` (``None``: the global one, lazily) and ``policy`` from now on."""
    STATE.tracer_provider = provider
    STATE.tracer = (provider.get_tracer(_TRACER_NAME, _VERSION, schema_url=semconv.SCHEMA_URL)
                    if provider is not None else None)
    STATE.policy = policy


def policy() -> ContentPolicy:
    """The content policy in force: the one ``instrument()`` set, else the environment's."""
    return STATE.policy


def set_active_prompt(version: str, commit: str, agent: str | None = None, *, role: str | None = None,
                      choose: Callable[[int], ActivePrompt] | None = None) -> None:
    """Stamp ``otel_meta.prompt.version`` / ``.commit`` (and ``.role``) on the agent spans started
    afterwards in this process and context (``agent`` given: only on that agent's spans)."""
    prompt = ActivePrompt(str(version), str(commit), role, choose)
    with _LOCK:
        STATE.prompts = {**STATE.prompts, agent: prompt}
    current = _context_prompts.get() or {}
    _context_prompts.set({**current, agent: prompt})


def active_prompt(agent: str) -> ActivePrompt | None:
    """The prompt version for ``agent``'s next run: this context's, else the process's."""
    for prompts in (_context_prompts.get(), STATE.prompts):
        if prompts:
            found = prompts.get(agent) or prompts.get(None)
            if found is not None:
                return found
    return None


def stamp_prompt(span: Span, prompt: ActivePrompt | None) -> None:
    """Write ``prompt`` (resolved for the span's trace id when it is a rollout) on an agent span."""
    if prompt is None or not span.is_recording():
        return
    chosen = prompt.for_trace(span.get_span_context().trace_id)
    span.set_attribute(semconv.OTEL_META_PROMPT_VERSION, chosen.version)
    span.set_attribute(semconv.OTEL_META_PROMPT_COMMIT, chosen.commit)
    if chosen.role is not None:
        span.set_attribute(semconv.OTEL_META_PROMPT_ROLE, chosen.role)


def current_agent() -> AgentFrame | None:
    frame = otel_context.get_value(_AGENT_KEY)
    return frame if isinstance(frame, AgentFrame) else None


def context_with_agent(frame: AgentFrame) -> otel_context.Context:
    """The current context with ``frame``'s span as the active span and ``frame`` as the agent run."""
    return otel_context.set_value(_AGENT_KEY, frame, trace.set_span_in_context(frame.span))
