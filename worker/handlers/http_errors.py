"""Provider HTTP failures, classified: what a retry can fix, and what means "device down".

Connection refused / connect timeout: retryable, and the device is unreachable.
Other timeouts and broken connections: retryable. 429: retryable after Retry-After.
5xx: retryable. Other 4xx: not retryable (the request itself is wrong).
"""

from __future__ import annotations

import contextlib
import email.utils
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx

from worker.handlers.base import JobFailed

MAX_RETRY_AFTER = 3600.0


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """Seconds from `retry-after-ms` or `Retry-After` (seconds or an HTTP date), if any."""
    if ms := headers.get("retry-after-ms"):
        try:
            return min(max(float(ms) / 1000, 0.0), MAX_RETRY_AFTER)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return min(max(when - time.time(), 0.0), MAX_RETRY_AFTER)


def _detail(response: httpx.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return response.text[:300]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error)[:300]
    return str(error or body)[:300]


def failure_for_response(provider: str, response: httpx.Response) -> JobFailed:
    """The JobFailed for a non-2xx answer (never marks a device offline)."""
    status = response.status_code
    message = f"{provider} answered {status}: {_detail(response)}"
    if status == 429:
        return JobFailed(message, retryable=True, retry_after=retry_after_seconds(response.headers))
    if status >= 500 or status == 408:
        return JobFailed(message, retryable=True)
    return JobFailed(message, retryable=False)


def failure_for_transport(provider: str, url: str, exc: httpx.TransportError) -> JobFailed:
    """The JobFailed for a request that got no answer."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return JobFailed(
            f"{provider} at {url} unreachable: {type(exc).__name__}: {exc}",
            retryable=True,
            device_unreachable=True,
        )
    return JobFailed(f"{provider} at {url}: {type(exc).__name__}: {exc}", retryable=True)


async def post_json(
    client: httpx.AsyncClient,
    provider: str,
    url: str,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> Any:
    """POSTs JSON and returns the JSON answer; raises a classified JobFailed otherwise."""
    try:
        response = await client.post(url, json=body, headers=headers)
    except httpx.TransportError as exc:
        raise failure_for_transport(provider, url, exc) from None
    if response.status_code >= 300:
        raise failure_for_response(provider, response)
    try:
        return response.json()
    except ValueError:
        raise JobFailed(f"{provider} answered with something that is not JSON") from None


@contextlib.asynccontextmanager
async def post_stream(
    client: httpx.AsyncClient,
    provider: str,
    url: str,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> AsyncIterator[httpx.Response]:
    """POSTs JSON and yields the streaming answer; failures classified as in post_json."""
    try:
        async with client.stream("POST", url, json=body, headers=headers) as response:
            if response.status_code >= 300:
                await response.aread()
                raise failure_for_response(provider, response)
            yield response
    except httpx.TransportError as exc:
        raise failure_for_transport(provider, url, exc) from None
