"""Optional bearer tokens: API_TOKEN for clients, WORKER_TOKEN (else API_TOKEN) for workers."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from core.errors import Unauthorized
from core.settings import CoreSettings


def token_matches(header: str | None, expected: str) -> bool:
    """`Authorization: Bearer <token>`, the scheme case-insensitive (RFC 7235) as on the bridge."""
    scheme, _, value = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.strip().encode(), expected.encode())


def client_token(settings: CoreSettings) -> str | None:
    return settings.api_token.get_secret_value() if settings.api_token else None


def worker_token(settings: CoreSettings) -> str | None:
    if settings.worker_token:
        return settings.worker_token.get_secret_value()
    return client_token(settings)


def _check(request: Request, expected: str | None) -> None:
    if expected is not None and not token_matches(request.headers.get("authorization"), expected):
        raise Unauthorized("missing or wrong bearer token")


def require_client(request: Request) -> None:
    _check(request, client_token(request.app.state.settings))


def require_worker(request: Request) -> None:
    _check(request, worker_token(request.app.state.settings))


def require_client_key(request: Request) -> None:
    """As require_client, also taking API_TOKEN as `x-api-key` (how Anthropic's clients send
    it)."""
    expected = client_token(request.app.state.settings)
    key = request.headers.get("x-api-key")
    if expected is not None and key and hmac.compare_digest(key.encode(), expected.encode()):
        return
    _check(request, expected)


ClientAuth = Annotated[None, Depends(require_client)]
WorkerAuth = Annotated[None, Depends(require_worker)]
