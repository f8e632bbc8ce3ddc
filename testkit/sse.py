"""Reading server-sent events in tests: each frame as {"id", "event", "data"} (data parsed)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx


async def read_frames(
    client: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """All frames of a stream that ends by itself (a job's stream ends after its last event)."""
    frames: list[dict[str, Any]] = []
    frame: dict[str, Any] = {}
    async with client.stream("GET", url, headers=headers or {}) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if not line:
                if "event" in frame or "data" in frame:
                    frames.append(frame)
                frame = {}
            elif line.startswith(":"):
                continue
            else:
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                frame[name] = json.loads(value) if name == "data" else value
    return frames


async def read_sse(response: Any) -> AsyncIterator[dict[str, Any]]:
    """Parses a server-sent-events response into {"id", "event", "data"} dicts (data as JSON);
    frames without data are skipped."""
    frame: dict[str, Any] = {}
    async for line in response.aiter_lines():
        if not line:
            if "data" in frame:
                frame["data"] = json.loads(frame["data"])
                yield frame
            frame = {}
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            frame[field] = value.removeprefix(" ")
