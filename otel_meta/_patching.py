"""Wrapping and unwrapping one attribute of a class with a wrapt ``FunctionWrapper``.

Each patch is remembered, so wrapping twice is harmless and unwrapping restores exactly what was there.
If another library has wrapped the attribute on top of ours, ours cannot be taken out of the chain;
it is then left in place and passes calls straight through (every wrapper checks
``otel_meta._runtime.STATE.instrumented`` first).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import wrapt

_log = logging.getLogger(__name__)
_patched: dict[tuple[type, str], tuple[Any, Any]] = {}
_lock = threading.Lock()

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


def wrap(owner: type, name: str, wrapper: Wrapper) -> None:
    """Wrap ``owner.name`` with ``wrapper(wrapped, instance, args, kwargs)`` unless already wrapped."""
    with _lock:
        if (owner, name) in _patched:
            return
        original = owner.__dict__[name]
        function_wrapper = wrapt.FunctionWrapper(original, wrapper)
        setattr(owner, name, function_wrapper)
        _patched[(owner, name)] = (original, function_wrapper)


def unwrap_all() -> None:
    """Restore every attribute ``wrap`` replaced (when ours is still the outermost wrapper)."""
    with _lock:
        for (owner, name), (original, function_wrapper) in list(_patched.items()):
            if owner.__dict__.get(name) is function_wrapper:
                setattr(owner, name, original)
            else:
                _log.info("%s.%s was wrapped again after otel-meta; leaving ours as a pass-through",
                          owner.__qualname__, name)
            del _patched[(owner, name)]


def is_patched(owner: type, name: str) -> bool:
    """Whether ``owner.name`` is currently otel-meta's wrapper."""
    entry = _patched.get((owner, name))
    return entry is not None and owner.__dict__.get(name) is entry[1]
