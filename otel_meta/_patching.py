"""Wrapping and unwrapping one method of a class.

The replacement is a plain function (``async def`` for a coroutine function) made with
``functools.wraps``, so ``__wrapped__``, the signature and ``inspect.iscoroutinefunction`` stay those of
the original; binding it costs what binding any method costs (a wrapt ``FunctionWrapper`` builds a
bound wrapper object on every attribute access). Each patch is remembered, so wrapping twice is harmless
and unwrapping restores exactly what was there.

If another library has wrapped the attribute on top of ours, ours cannot be taken out of the chain: it
is left in place, dormant, and passes calls straight through (every wrapper checks
``otel_meta._runtime.STATE.instrumented`` first). Wrapping again reuses a dormant replacement that is
still in the attribute's chain instead of adding a second one, so each call is traced once.
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
#: Replacements left in place under another library's wrapper by ``unwrap_all``.
_dormant: dict[tuple[type, str], tuple[Any, Any]] = {}
_lock = threading.Lock()
#: How many ``__wrapped__`` links ``_in_chain`` follows (wrapper chains are a few links deep).
_MAX_CHAIN = 16

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


def wrap(owner: type, name: str, wrapper: Wrapper) -> None:
    """Wrap the method ``owner.name`` with ``wrapper(wrapped, instance, args, kwargs)`` (``wrapped`` is the
    original bound to ``instance``) unless already wrapped."""
    with _lock:
        if (owner, name) in _patched:
            return
        current = owner.__dict__[name]
        dormant = _dormant.pop((owner, name), None)
        if dormant is not None and _in_chain(current, dormant[1]):
            _patched[(owner, name)] = dormant
            return
        replacement = _replacement(owner, current, wrapper)
        setattr(owner, name, replacement)
        _patched[(owner, name)] = (current, replacement)


def _in_chain(attribute: Any, target: Any) -> bool:
    """Whether ``target`` is ``attribute`` or reached from it through ``__wrapped__`` links."""
    link = attribute
    for _ in range(_MAX_CHAIN):
        if link is target:
            return True
        link = getattr(link, "__wrapped__", None)
        if link is None:
            return False
    return False


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
    """Restore every attribute ``wrap`` replaced (when ours is still the outermost wrapper; otherwise
    ours stays in the chain, dormant, for ``wrap`` to reuse)."""
    with _lock:
        for (owner, name), (original, replacement) in list(_patched.items()):
            if owner.__dict__.get(name) is replacement:
                setattr(owner, name, original)
            else:
                _log.info("%s.%s was wrapped again after otel-meta; leaving ours as a pass-through",
                          owner.__qualname__, name)
                _dormant[(owner, name)] = (original, replacement)
            del _patched[(owner, name)]


def is_patched(owner: type, name: str) -> bool:
    """Whether ``owner.name`` is currently otel-meta's wrapper."""
    entry = _patched.get((owner, name))
    return entry is not None and owner.__dict__.get(name) is entry[1]
