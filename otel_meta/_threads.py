"""Context propagation into ``concurrent.futures.ThreadPoolExecutor`` workers.

A submitted callable runs in a copy of the submitting context, so spans started in a worker keep the
submitter's active span (and agent run) as their parent. ``asyncio``'s ``run_in_executor`` goes
through ``submit`` too; tasks and ``asyncio.to_thread`` copy the context themselves.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from otel_meta import _patching, _runtime


def executor_submit() -> _patching.Wrapper:
    """The wrapper of ``ThreadPoolExecutor.submit``: run the callable in a copy of this context."""

    def traced(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...],
               kwargs: dict[str, Any]) -> Any:
        if not _runtime.STATE.instrumented or not args:
            return wrapped(*args, **kwargs)
        return wrapped(contextvars.copy_context().run, *args, **kwargs)

    return traced


def instrument() -> None:
    _patching.wrap(ThreadPoolExecutor, "submit", executor_submit())
