"""The analyzer's exceptions, in one place. Messages say what was wrong and what to do."""

from __future__ import annotations


class OtelMetaError(Exception):
    """Base class of every error ``analyzers`` raises on purpose."""


class StoreError(OtelMetaError):
    """The store cannot be opened, migrated or written."""


class OverloadedError(StoreError):
    """The write queue is full; retry later (HTTP 503 / gRPC UNAVAILABLE)."""


class MalformedPayloadError(OtelMetaError):
    """An OTLP body could not be decoded (HTTP 400 / gRPC INVALID_ARGUMENT)."""


class PayloadTooLargeError(OtelMetaError):
    """A body is over the size limit, before or after decompression (HTTP 413)."""


class InvalidAgentNameError(OtelMetaError, ValueError):
    """An agent name does not match ``^[a-z0-9][a-z0-9_-]{0,63}$``."""


class UnknownAgentError(OtelMetaError, LookupError):
    """No runs or prompt file exist for the agent named."""


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


class ServeError(OtelMetaError):
    """``otel-meta serve`` cannot start as configured (the CLI prints the message, exit 2)."""


class PortInUseError(ServeError):
    """The HTTP or gRPC port to listen on is taken, or cannot be bound; the message names which and the fix."""


class InsecureBindError(ServeError):
    """A bind address other than loopback was asked for without a token."""
