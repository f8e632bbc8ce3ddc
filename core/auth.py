"""Optional bearer tokens: API_TOKEN for clients, WORKER_TOKEN (else API_TOKEN) for workers.

Transport-neutral: the HTTP dependencies (`core/http/auth.py`) and the gRPC interceptor
(`core/grpc/auth.py`) both check with these.
"""

from __future__ import annotations

import hmac

from core.settings import CoreSettings


def token_matches(header: str | None, expected: str) -> bool:
    """`Authorization: Bearer <token>`, the scheme case-insensitive (RFC 7235) as on the bridge."""
    scheme, _, value = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return key_matches(value.strip(), expected)


def key_matches(key: str, expected: str) -> bool:
    """The bare token (Anthropic's `x-api-key`), compared in constant time."""
    return hmac.compare_digest(key.encode(), expected.encode())


def client_token(settings: CoreSettings) -> str | None:
    return settings.api_token.get_secret_value() if settings.api_token else None


def worker_token(settings: CoreSettings) -> str | None:
    if settings.worker_token:
        return settings.worker_token.get_secret_value()
    return client_token(settings)
