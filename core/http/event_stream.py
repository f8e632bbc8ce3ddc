"""The drop-in APIs' server-sent events, written by sse-starlette the way the providers write
them: `\\n` line ends, compact JSON, and no keep-alive comments (no ping task either)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from sse_starlette import EventSourceResponse

# One event as sse-starlette takes it: `data`, and `event` for named ones.
Frame = dict[str, str]


def data_frame(data: dict[str, Any] | str) -> Frame:
    """`data: {...}` (OpenAI's chunks), or a bare text such as `[DONE]`."""
    return {"data": data if isinstance(data, str) else _json(data)}


def named_frame(name: str, data: dict[str, Any]) -> Frame:
    """`event: name` + `data: {...}` (Anthropic's and the Responses API's events)."""
    return {"event": name, "data": _json(data)}


def event_stream(frames: AsyncIterator[Frame], headers: Mapping[str, str]) -> EventSourceResponse:
    return EventSourceResponse(frames, headers=headers, sep="\n", ping=0)


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))
