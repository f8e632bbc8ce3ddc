"""Reading server-sent events in tests: each frame as {"event", "id", "data"} (data parsed),
decoded by httpx-sse."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from httpx_sse import EventSource


async def read_sse(response: Any) -> AsyncIterator[dict[str, Any]]:
    """The frames of a server-sent-events response: `event` ("message" when unnamed), `id`
    when the stream has given one, `data` as JSON. A frame without data (a reconnect hint
    alone) is skipped. `response`: an httpx response, or anything with `aiter_lines()`."""
    if not isinstance(response, httpx.Response):
        response = _response_of(response.aiter_lines())
    async for event in EventSource(response).aiter_sse():
        if not event.data:
            continue
        frame: dict[str, Any] = {"event": event.event, "data": json.loads(event.data)}
        if event.id:
            frame["id"] = event.id
        if event.retry is not None:
            frame["retry"] = event.retry
        yield frame


async def read_frames(
    client: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """All frames of a stream that ends by itself (a job's stream ends after its last event)."""
    async with client.stream("GET", url, headers=headers or {}) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        return [frame async for frame in read_sse(response)]


def _response_of(lines: AsyncIterator[str]) -> httpx.Response:
    async def body() -> AsyncIterator[bytes]:
        async for line in lines:
            yield f"{line}\n".encode()

    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body())
