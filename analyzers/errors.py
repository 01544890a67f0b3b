"""The analyzer's exceptions, in one place. Messages say what was wrong and what to do."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest_first(name: str, known: Iterable[str]) -> list[str]:
    """``known`` sorted for an error message: the names most like ``name`` first (a typo's intended name
    leads), then the rest alphabetically."""
    names = sorted(set(known))
    close = difflib.get_close_matches(name, names, n=max(1, len(names)), cutoff=0.5)
    return close + [n for n in names if n not in close]


def _listing(name: str, known: Iterable[str]) -> str:
    return ", ".join(closest_first(name, known)) or "none"


class OtelMetaError(Exception):
    """Base class of every error ``analyzers`` raises on purpose."""


class StoreError(OtelMetaError):
    """The store cannot be opened, migrated or written."""


class OverloadedError(StoreError):
    """The write queue is full; retry later (HTTP 503 / gRPC UNAVAILABLE)."""


class StoreLocationError(StoreError):
    """The store's path cannot hold a store: its directory is missing or read-only, or it is a directory."""


class StoreCorruptError(StoreError):
    """The store file is not a database, is truncated, or has corrupted pages."""


class StoreVersionError(StoreError):
    """The store's schema is newer than this otel-meta."""


class StoreFullError(StoreError):
    """The disk (or the database server's quota) is full."""


class StoreConnectionError(StoreError):
    """The database server cannot be reached or refused the login."""


class SpanValueError(StoreError, ValueError):
    """A span carries a value the store cannot hold (e.g. a time over 2^63-1 ns); not retryable (HTTP 400)."""
class ListenError(OtelMetaError):
    """A receiver port cannot be bound (already in use, not permitted, or an address not on this host)."""


class MalformedPayloadError(OtelMetaError):
    """An OTLP body could not be decoded (HTTP 400 / gRPC INVALID_ARGUMENT)."""


class PayloadTooLargeError(OtelMetaError):
    """A body is over the size limit, before or after decompression (HTTP 413)."""


class InvalidAgentNameError(OtelMetaError, ValueError):
    """An agent name does not match ``^[a-z0-9][a-z0-9_-]{0,63}$``."""


class UnknownAgentError(OtelMetaError, LookupError):
    """No runs or prompt file exist for the agent named."""

    @classmethod
    def naming(cls, agent: str, known: Iterable[str]) -> UnknownAgentError:
        """``no runs of agent 'x' in the store; agents with runs: <closest first>``."""
        return cls(f"no runs of agent {agent!r} in the store; agents with runs: {_listing(agent, known)}")


class UnknownVersionError(OtelMetaError, LookupError):
    """No runs exist for the prompt version named."""

    @classmethod
    def naming(cls, agent: str, version: str, known: Iterable[str]) -> UnknownVersionError:
        """``no runs of agent 'a' at prompt version 'v'; versions with runs: <closest first>``."""
        return cls(f"no runs of agent {agent!r} at prompt version {version!r}; "
                   f"versions with runs: {_listing(version, known)}")


class PromptsRepoError(OtelMetaError):
    """The prompts repository is missing, dirty, mid-merge/rebase, or its branch moved."""


class JudgeError(OtelMetaError):
    """The LLM judge could not produce an assessment (endpoint error, unusable answer)."""


class UnknownRunError(OtelMetaError, LookupError):
    """No stored run has the trace id given (HTTP 404)."""


class StateFileError(OtelMetaError):
    """The MetaAgent's state file exists but cannot be read as its state."""


class ImportDataError(OtelMetaError):
    """A dataset file to import is missing or not in the expected format."""



class InsecureBindError(OtelMetaError):
    """A bind address other than loopback was asked for without a token (the CLI prints it, exit 2)."""
