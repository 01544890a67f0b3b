"""Decorators and calls for hand-written agents: ``agent``, ``tool``, ``thinking``, ``set_outcome``.

Each decorated call is one span (DESIGN.md span contract) that is the active span while the function
runs, for plain, async, generator and async-generator functions alike. The function's return value
and exceptions pass through untouched; otel-meta's own errors go through the guard.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar, overload

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind

from otel_meta import _runtime, _spans
from otel_meta import semconv as sc
from otel_meta._content import safe_str
from otel_meta._guard import internal_error
from otel_meta._problem import AgentType, ProblemContext, agent_name

_log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
_attach = otel_context.attach
_detach = otel_context.detach
_set_span = trace.set_span_in_context
_INTERNAL = SpanKind.INTERNAL
_warned_no_agent: list[bool] = []


class _ToolStep:
    """Starts and ends the ``execute_tool`` span of one decorated tool."""

    __slots__ = ("_signature", "attributes", "fn", "name", "span_name")

    def __init__(self, fn: Callable[..., Any], name: str) -> None:
        self.fn = fn
        self.name = name
        self.span_name = f"{sc.OP_EXECUTE_TOOL} {name}"
        self.attributes = _spans.tool_attributes(name)
        self._signature: inspect.Signature | None = None

    def begin(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Context] | None:
        try:
            state = _runtime.STATE
            tracer = state.tracer or _runtime.tracer()
            span = tracer.start_span(self.span_name, kind=_INTERNAL, attributes=self.attributes)
        except Exception as exc:  # noqa: BLE001 - the guard decides
            internal_error("tool.begin", exc)
            return None
        if state.policy.mode.enabled:
            try:
                if span.is_recording():
                    span.set_attribute(sc.GEN_AI_TOOL_CALL_ARGUMENTS,
                                       state.policy.json(self._arguments(args, kwargs)))
            except Exception as exc:  # noqa: BLE001
                internal_error("tool.arguments", exc)
        return span, _set_span(span)

    def _arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if self._signature is None:
            self._signature = inspect.signature(self.fn)
        bound = self._signature.bind_partial(*args, **kwargs).arguments
        return {k: v for k, v in bound.items() if k not in ("self", "cls")}

    def end_ok(self, span: Any, result: Any) -> None:
        try:
            state = _runtime.STATE
            if state.policy.mode.enabled and span.is_recording():
                _spans.set_tool_result(span, state.policy.json(result))
        except Exception as exc:  # noqa: BLE001
            internal_error("tool.end", exc)
        finally:
            span.end()

    def end_error(self, span: Any, exc: BaseException) -> None:
        try:
            _spans.set_error(span, _spans.error_type_of(exc))
            policy = _runtime.STATE.policy
            _spans.record_exception(span, exc, policy.text(safe_str(exc)) if policy.mode.enabled else None)
        except Exception as err:  # noqa: BLE001
            internal_error("tool.error", err)
        finally:
            span.end()


class _AgentStep:
    """Starts and ends the ``invoke_agent`` span of one decorated agent."""

    __slots__ = ("name", "problem")

    def __init__(self, name: str, problem: ProblemContext | None) -> None:
        self.name = name
        self.problem = problem

    def begin(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Context] | None:
        try:
            span = _spans.start_agent_span(_runtime.tracer(), self.name, problem=self.problem)
            # after the start: a candidate rollout picks the version from the run's trace id
            _runtime.stamp_prompt(span, _runtime.active_prompt(self.name))
            frame = _runtime.AgentFrame(self.name, span)
            return frame, _runtime.context_with_agent(frame)
        except Exception as exc:  # noqa: BLE001
            internal_error("agent.begin", exc)
            return None

    def end_ok(self, frame: Any, result: Any) -> None:
        frame.span.end()

    def end_error(self, frame: Any, exc: BaseException) -> None:
        try:
            _spans.set_error(frame.span, _spans.error_type_of(exc))
            if not frame.outcome_set:
                _spans.set_outcome(frame.span, False)
        except Exception as err:  # noqa: BLE001
            internal_error("agent.error", err)
        finally:
            frame.span.end()


def _wrap(fn: F, step: _ToolStep | _AgentStep) -> F:
    if inspect.isasyncgenfunction(fn):
        return functools.wraps(fn)(_async_generator(fn, step))  # type: ignore[return-value]
    if inspect.isgeneratorfunction(fn):
        return functools.wraps(fn)(_generator(fn, step))  # type: ignore[return-value]
    if inspect.iscoroutinefunction(fn):
        async def traced_async(*args: Any, **kwargs: Any) -> Any:
            started = step.begin(args, kwargs)
            if started is None:
                return await fn(*args, **kwargs)
            span, ctx = started
            token = _attach(ctx)
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                _detach(token)
                step.end_error(span, exc)
                raise
            _detach(token)
            step.end_ok(span, result)
            return result

        return functools.wraps(fn)(traced_async)  # type: ignore[return-value]

    def traced(*args: Any, **kwargs: Any) -> Any:
        started = step.begin(args, kwargs)
        if started is None:
            return fn(*args, **kwargs)
        span, ctx = started
        token = _attach(ctx)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            _detach(token)
            step.end_error(span, exc)
            raise
        _detach(token)
        step.end_ok(span, result)
        return result

    return functools.wraps(fn)(traced)  # type: ignore[return-value]


def _generator(fn: Callable[..., Any], step: _ToolStep | _AgentStep) -> Callable[..., Any]:
    def traced_generator(*args: Any, **kwargs: Any) -> Any:
        started = step.begin(args, kwargs)
        if started is None:
            return (yield from fn(*args, **kwargs))
        span, ctx = started
        inner = fn(*args, **kwargs)
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            token = _attach(ctx)
            try:
                item = inner.throw(thrown) if thrown is not None else inner.send(sent)
            except StopIteration as stop:
                _detach(token)
                step.end_ok(span, stop.value)
                return stop.value
            except BaseException as exc:
                _detach(token)
                step.end_error(span, exc)
                raise
            _detach(token)
            thrown = None
            try:
                sent = yield item
            except GeneratorExit:
                token = _attach(ctx)
                try:
                    inner.close()
                except BaseException as exc:
                    _detach(token)
                    step.end_error(span, exc)
                    raise
                _detach(token)
                step.end_ok(span, None)
                raise
            except BaseException as exc:
                thrown = exc

    return traced_generator


def _async_generator(fn: Callable[..., Any], step: _ToolStep | _AgentStep) -> Callable[..., Any]:
    async def traced_async_generator(*args: Any, **kwargs: Any) -> Any:
        started = step.begin(args, kwargs)
        inner = fn(*args, **kwargs)
        if started is None:
            async for item in inner:
                yield item
            return
        span, ctx = started
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            token = _attach(ctx)
            try:
                item = await (inner.athrow(thrown) if thrown is not None else inner.asend(sent))
            except StopAsyncIteration:
                _detach(token)
                step.end_ok(span, None)
                return
            except BaseException as exc:
                _detach(token)
                step.end_error(span, exc)
                raise
            _detach(token)
            thrown = None
            try:
                sent = yield item
            except GeneratorExit:
                token = _attach(ctx)
                try:
                    await inner.aclose()
                except BaseException as exc:
                    _detach(token)
                    step.end_error(span, exc)
                    raise
                _detach(token)
                step.end_ok(span, None)
                raise
            except BaseException as exc:
                thrown = exc

    return traced_async_generator


@overload
def tool(name: F, /) -> F: ...
@overload
def tool(name: str | None = None, /) -> Callable[[F], F]: ...


def tool(name: Any = None, /) -> Any:
    """Trace a function as a tool call: ``@tool`` (named after the function) or ``@tool("get_pods")``.

    Each call is an ``execute_tool {name}`` span; an exception marks it failed (``error.type``, status
    ERROR) and propagates unchanged. Arguments and result are recorded only with content capture on.
    """
    if callable(name):
        return _wrap(name, _ToolStep(name, name.__name__))

    def decorate(fn: F) -> F:
        return _wrap(fn, _ToolStep(fn, name or fn.__name__))

    return decorate


def agent(name: AgentType | str, *, problem: ProblemContext | None = None) -> Callable[[F], F]:
    """Trace a function as one agent run: ``@agent("diagnosis")`` makes each call an
    ``invoke_agent diagnosis`` span that carries the active prompt version (see ``load_prompt``).

    An unhandled exception sets status ERROR and, unless ``set_outcome`` was called, outcome failure.
    """
    step = _AgentStep(agent_name(name), problem)

    def decorate(fn: F) -> F:
        return _wrap(fn, step)

    return decorate


def thinking(reasoning: str, tool_choice: str | None = None, justification: str | None = None) -> None:
    """Record a thinking step of the current agent run: how long the reasoning was, which tool it chose,
    and (content capture on) the reasoning text and justification."""
    try:
        frame = _runtime.current_agent()
        text = "" if reasoning is None else safe_str(reasoning)
        policy = _runtime.policy()
        capture = policy.mode.enabled
        _spans.record_thinking(
            _runtime.tracer(), frame.name if frame is not None else None,
            chars=len(text),
            tool_choice=safe_str(tool_choice) if tool_choice is not None else None,
            reasoning=policy.text(text) if capture else None,
            justification=policy.text(safe_str(justification)) if capture and justification is not None else None,
        )
    except Exception as exc:  # noqa: BLE001
        internal_error("thinking", exc)


def set_outcome(success: bool, submission: Any = None) -> None:
    """Set the outcome of the current agent run (``success``/``failure``); the submission is recorded
    only with content capture on."""
    try:
        frame = _runtime.current_agent()
        if frame is None:
            if not _warned_no_agent:
                _warned_no_agent.append(True)
                _log.warning("otel_meta.set_outcome() called outside an agent run; ignored")
            return
        policy = _runtime.policy()
        text = None
        if submission is not None and policy.mode.enabled:
            text = policy.text(submission if isinstance(submission, str) else policy.json(submission))
        _spans.set_outcome(frame.span, bool(success), text)
        frame.outcome_set = True
    except Exception as exc:  # noqa: BLE001
        internal_error("set_outcome", exc)
