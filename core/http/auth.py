"""The bearer-token checks (`core/auth.py`) as FastAPI dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from core.auth import client_token, key_matches, token_matches, worker_token
from core.errors import Unauthorized


def _check(request: Request, expected: str | None) -> None:
    if expected is not None and not token_matches(request.headers.get("authorization"), expected):
        raise Unauthorized("missing or wrong bearer token")


def check_client(request: Request) -> None:
    _check(request, client_token(request.app.state.settings))


def check_worker(request: Request) -> None:
    _check(request, worker_token(request.app.state.settings))


def check_client_key(request: Request) -> None:
    """As check_client, also taking API_TOKEN as `x-api-key` (how Anthropic's clients send
    it)."""
    expected = client_token(request.app.state.settings)
    key = request.headers.get("x-api-key")
    if expected is not None and key and key_matches(key, expected):
        return
    _check(request, expected)


# The checks as dependencies: `async def`, which FastAPI calls in the event loop; a plain `def`
# one would go to its thread pool, a thread hand-off per request for a look at one header.
async def require_client(request: Request) -> None:
    check_client(request)


async def require_worker(request: Request) -> None:
    check_worker(request)


ClientAuth = Annotated[None, Depends(require_client)]
WorkerAuth = Annotated[None, Depends(require_worker)]
