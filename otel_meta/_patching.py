"""Wrapping and unwrapping one method of a class.

The replacement is a plain function (``async def`` for a coroutine function) made with
``functools.wraps``, so ``__wrapped__``, the signature and ``inspect.iscoroutinefunction`` stay those of
the original; binding it costs what binding any method costs (a wrapt ``FunctionWrapper`` builds a
bound wrapper object on every attribute access). Each patch is remembered, so wrapping twice is harmless and unwrapping restores exactly what was there.
If another library has wrapped the attribute on top of ours, ours cannot be taken out of the chain;
it is then left in place and passes calls straight through (every wrapper checks
``otel_meta._runtime.STATE.instrumented`` first).
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
from collections.abc import Callable
from typing import Any

_log = logging.getLogger(__name__)
_patched: dict[tuple[type, str], tuple[Any, Any]] = {}
_lock = threading.Lock()

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


def wrap(owner: type, name: str, wrapper: Wrapper) -> None:
    """Wrap the method ``owner.name`` with ``wrapper(wrapped, instance, args, kwargs)`` (``wrapped`` is the
    original bound to ``instance``) unless already wrapped."""
    with _lock:
        if (owner, name) in _patched:
            return
        original = owner.__dict__[name]
        replacement = _replacement(owner, original, wrapper)
        setattr(owner, name, replacement)
        _patched[(owner, name)] = (original, replacement)


def _replacement(owner: type, original: Any, wrapper: Wrapper) -> Callable[..., Any]:
    bind = original.__get__
    if inspect.iscoroutinefunction(original):
        @functools.wraps(original)
        async def patched_async(self: Any, *args: Any, **kwargs: Any) -> Any:
            return await wrapper(bind(self, owner), self, args, kwargs)

        return patched_async

    @functools.wraps(original)
    def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        return wrapper(bind(self, owner), self, args, kwargs)

    return patched


def unwrap_all() -> None:
    """Restore every attribute ``wrap`` replaced (when ours is still the outermost wrapper)."""
    with _lock:
        for (owner, name), (original, replacement) in list(_patched.items()):
            if owner.__dict__.get(name) is replacement:
                setattr(owner, name, original)
            else:
                _log.info("%s.%s was wrapped again after otel-meta; leaving ours as a pass-through",
                          owner.__qualname__, name)
            del _patched[(owner, name)]


def is_patched(owner: type, name: str) -> bool:
    """Whether ``owner.name`` is currently otel-meta's wrapper."""
    entry = _patched.get((owner, name))
    return entry is not None and owner.__dict__.get(name) is entry[1]
