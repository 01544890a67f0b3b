"""``import otel_meta.auto`` turns otel-meta on: ``otel_meta.instrument()`` with the environment's
settings (see ``otel_meta.instrument``)."""

from __future__ import annotations

from otel_meta._setup import instrument

instrument()
