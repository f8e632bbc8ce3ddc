"""Server-sent events on the wire, without servers: the bytes the drop-in APIs write (what the
providers' clients read), and what the worker reads from a cloud provider's stream."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from core.http.event_stream import Frame, data_frame, event_stream, named_frame
from worker.handlers.base import JobFailed
from worker.handlers.streams import TextParts, read_openai


async def _written(frames: AsyncIterator[Frame]) -> tuple[dict[bytes, bytes], bytes]:
    response = event_stream(frames, {"x-llm-mcp-job-id": "j1"})
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        await asyncio.Event().wait()  # the client stays
        return {}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asyncio.wait_for(response({"type": "http", "method": "POST"}, receive, send), 5)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return dict(sent[0]["headers"]), body


async def test_drop_in_frames_are_written_as_the_providers_write_them() -> None:
    async def frames() -> AsyncIterator[Frame]:
        yield data_frame({"object": "chat.completion.chunk", "delta": {"content": "é\n"}})
        yield named_frame("message_stop", {"type": "message_stop"})
        yield data_frame("[DONE]")

    headers, body = await _written(frames())
    assert body == (
        b'data: {"object":"chat.completion.chunk","delta":{"content":"\\u00e9\\n"}}\n\n'
        b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
        b"data: [DONE]\n\n"
    )
    assert headers[b"content-type"] == b"text/event-stream; charset=utf-8"
    assert headers[b"x-llm-mcp-job-id"] == b"j1"


def _cloud(body: bytes, content_type: str = "text/event-stream") -> httpx.Response:
    return httpx.Response(200, headers={"content-type": content_type}, content=body)


async def test_a_cloud_stream_is_read_with_comments_and_crlf_line_ends() -> None:
    body = (
        b": OPENROUTER PROCESSING\r\n\r\n"
        b'data: {"id":"c1","created":1,"choices":[{"index":0,"delta":{"content":"he"}}]}\r\n\r\n'
        b'data: {"choices":[{"index":0,"delta":{"content":"llo"},"finish_reason":"stop"}],'
        b'"usage":{"completion_tokens":2}}\r\n\r\n'
        b"data: [DONE]\r\n\r\n"
    )
    answer = await read_openai(_cloud(body), TextParts(None), "openrouter", "m")
    assert answer["id"] == "c1" and answer["model"] == "m"
    assert answer["choices"][0]["message"]["content"] == "hello"
    assert answer["choices"][0]["finish_reason"] == "stop"
    assert answer["usage"] == {"completion_tokens": 2}


@pytest.mark.parametrize(
    ("body", "content_type", "why"),
    [
        (b'data: {"choices":[]}\n\n', "text/event-stream", "ended before [DONE]"),
        (b'data: {"error":{"message":"quota"}}\n\n', "text/event-stream", "quota"),
        (b"data: not json\n\n", "text/event-stream", "not JSON"),
        (b'{"choices":[]}', "application/json", "no server-sent events"),
    ],
)
async def test_a_broken_cloud_stream_fails_the_job_with_its_reason(
    body: bytes, content_type: str, why: str
) -> None:
    with pytest.raises(JobFailed, match=re.escape(why)):
        await read_openai(_cloud(body, content_type), TextParts(None), "openai", "m")
