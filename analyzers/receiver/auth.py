"""The bearer-token check of the analyzer's endpoints (OTLP/HTTP, REST and OTLP/gRPC alike)."""

from __future__ import annotations

import hmac


def bearer_matches(authorization: str, token: str) -> bool:
    """``True`` when an ``Authorization`` value is exactly ``Bearer <token>`` (compared in constant time)."""
    return hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode())
