"""Suite-wide settings: otel-meta's strict mode, so every internal instrumentation error fails a test."""

from __future__ import annotations

import os

os.environ["OTEL_META_STRICT"] = "1"
