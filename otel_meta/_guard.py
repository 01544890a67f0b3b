"""The one guard around every path from the host into otel-meta's code.

An internal error is logged once per site and swallowed, so instrumentation never changes what the
host sees; in strict mode (``OTEL_META_STRICT=1``, set by the test suite) it is re-raised instead.
Host return values and host exceptions never pass through here.
"""

from __future__ import annotations

import logging
import threading

from otel_meta import _config

_log = logging.getLogger(__name__)
_reported: set[str] = set()
_lock = threading.Lock()


def internal_error(site: str, exc: BaseException) -> None:
    """Handle an error raised by otel-meta's own code at ``site`` (call from an ``except`` block)."""
    if _config.strict():
        raise exc
    with _lock:
        first = site not in _reported
        _reported.add(site)
    if first:
        _log.warning("otel-meta internal error at %s (further ones there are not logged)", site,
                     exc_info=exc)


def reported_sites() -> frozenset[str]:
    """The sites that have reported an internal error in this process."""
    with _lock:
        return frozenset(_reported)
