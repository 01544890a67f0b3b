"""The OTLP receiver: ``analyzers.receiver.server.AnalyzerServer`` (HTTP and gRPC, one store writer)."""

from __future__ import annotations
