"""One LLM span per call when another openai instrumentation is active too.

opentelemetry-instrumentation-openai-v2 and traceloop's openai instrumentor wrap ``create`` (wrapt
``FunctionWrapper``); OpenInference's wraps the client's ``request`` method, under every resource
method. Whoever wraps last runs first, so the order of ``instrument()`` calls decides which wrapper is
outside. The rule is the same in every order: **the other instrumentation's span is the call's span,
and otel-meta opens none**:

- the other wrapper is outside ours (it instrumented after otel-meta): its LLM span is the current span
  when ours runs, so otel-meta adds its own response attributes to that span (``LlmCall(owned=False)``)
  instead of starting a second one;
- the other wrapper is inside ours (it instrumented before otel-meta, or it wraps ``request``): ours
  finds it under the method it calls, or on the client's ``request``, and passes the call through.

Why otel-meta yields rather than the other: the user installed it on purpose (its spans, metrics and
events feed their backend), nothing can switch it off for one call without also suppressing the HTTP
spans under it, and the analyzer reads its conventions anyway.
"""

from __future__ import annotations

from typing import Any

import wrapt
from opentelemetry import trace

from otel_meta import semconv as sc

#: Modules whose wrappers on an openai method are LLM instrumentations (openai-v2 and traceloop's live
#: under ``opentelemetry.instrumentation.``; OpenInference's under ``openinference.instrumentation.``).
_INSTRUMENTATION_MODULES = ("opentelemetry.instrumentation.", "openinference.instrumentation.")
_MAX_CHAIN = 16
#: The base of every wrapt wrapper (``BaseObjectProxy`` since wrapt 2; ``ObjectProxy`` before).
_ObjectProxy: type = getattr(wrapt, "BaseObjectProxy", wrapt.ObjectProxy)
_get_current_span = trace.get_current_span
_LLM_KINDS = frozenset({sc.OPENINFERENCE_KIND_LLM})
_LLM_REQUEST_TYPES = frozenset({"chat", "completion"})


def is_instrumentation_wrapper(obj: Any) -> bool:
    """Whether ``obj`` is a wrapt wrapper installed by an LLM instrumentation."""
    if not isinstance(obj, _ObjectProxy):
        return False
    wrapper = getattr(obj, "_self_wrapper", None)
    module = getattr(wrapper, "__module__", None)
    return isinstance(module, str) and module.startswith(_INSTRUMENTATION_MODULES)


def instrumented_below(method: Any) -> bool:
    """Whether ``method`` (what otel-meta's wrapper calls) is, or wraps, an LLM instrumentation's wrapper."""
    link = method
    for _ in range(_MAX_CHAIN):
        if link is None:
            return False
        if is_instrumentation_wrapper(link):
            return True
        link = getattr(link, "__wrapped__", None)
    return False


def request_instrumented(resource: Any) -> bool:
    """Whether the client behind ``resource`` has an LLM instrumentation on its ``request`` method."""
    # Looked up on the class: a plain function comes back as itself, found by the interpreter's own MRO
    # walk; only a wrapper (OpenInference's) needs a closer look.
    method = getattr(type(getattr(resource, "_client", None)), "request", None)
    return isinstance(method, _ObjectProxy) and is_instrumentation_wrapper(method)


def host_span() -> Any:
    """The open LLM span another instrumentation started for this call, if otel-meta runs inside one."""
    span = _get_current_span()
    if not span.is_recording():
        return None
    attributes = getattr(span, "attributes", None)
    if not attributes:
        return None
    # The SDK's attribute mapping answers a missing key with a caught KeyError, so the usual current span
    # (an agent or tool span, which has an operation name) is settled by its first lookup.
    operation = attributes.get(sc.GEN_AI_OPERATION_NAME)
    if operation is not None:
        return span if operation in sc.LLM_OPERATIONS else None
    if (attributes.get(sc.OPENINFERENCE_SPAN_KIND) in _LLM_KINDS
            or attributes.get(sc.LLM_REQUEST_TYPE) in _LLM_REQUEST_TYPES):
        return span
    return None
