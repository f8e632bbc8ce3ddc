"""Reading providers' streaming answers: Ollama NDJSON and OpenAI server-sent events.

Each reader forwards chunks to the job's progress batcher (thinking apart from the answer)
and returns the whole answer shaped as the provider's non-streaming answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from httpx_sse import EventSource, SSEError

from proto.contract import RESPONSE, THINKING
from worker.handlers.base import JobFailed
from worker.handlers.thinking import ThinkSplitter
from worker.progress import ProgressBatcher


class TextParts:
    """Response and thinking text of one answer, split as it streams."""

    def __init__(self, progress: ProgressBatcher | None) -> None:
        self.progress = progress
        self.raw: list[str] = []
        self.response: list[str] = []
        self.thinking: list[str] = []
        self._splitter = ThinkSplitter()

    def add(self, text: str = "", thinking: str = "") -> None:
        if text:
            self.raw.append(text)
            tagged, plain = self._splitter.feed(text)
            thinking += tagged
            text = plain
        self._emit(text, thinking)

    def finish(self) -> None:
        tagged, plain = self._splitter.flush()
        self._emit(plain, tagged)

    def _emit(self, text: str, thinking: str) -> None:
        if thinking:
            self.thinking.append(thinking)
        if not self.response and self.thinking:
            text = text.lstrip("\n")  # the newline after </think>
        if text:
            self.response.append(text)
        if self.progress is not None:
            self.progress.add(text=text, thinking=thinking)

    def result(self) -> dict[str, Any]:
        thinking = "".join(self.thinking)
        return {RESPONSE: "".join(self.response), THINKING: thinking or None}


# How long the rest of a stream may take to end once its last answer line was read.
DRAIN_SECONDS = 1.0


async def _drain(lines: AsyncIterator[Any]) -> None:
    """Reads a stream to its end after the answer's last line, so its connection is kept for
    the next request (a response closed unread closes its connection). Bounded; errors ignored:
    the answer is already whole."""
    with contextlib.suppress(TimeoutError, httpx.HTTPError):
        async with asyncio.timeout(DRAIN_SECONDS):
            async for _ in lines:
                pass


def _json_line(provider: str, line: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError:
        raise JobFailed(f"{provider} streamed a line that is not JSON: {line[:100]!r}") from None
    if not isinstance(value, dict):
        raise JobFailed(f"{provider} streamed something that is not an object")
    return value


async def read_ollama(response: httpx.Response, parts: TextParts, *, chat: bool) -> dict[str, Any]:
    """Ollama's NDJSON (/api/generate or /api/chat); the answer as with stream=false."""
    last: dict[str, Any] = {}
    calls: list[Any] = []  # a tool call comes whole in one chunk, not in the done line
    lines = response.aiter_lines()
    async for line in lines:
        if not line.strip():
            continue
        chunk = _json_line("ollama", line)
        if "error" in chunk:
            raise JobFailed(f"ollama stream error: {str(chunk['error'])[:300]}")
        source = (chunk.get("message") or {}) if chat else chunk
        if chat and isinstance(source.get("tool_calls"), list):
            calls.extend(source["tool_calls"])
        text = source.get("content" if chat else "response") or ""
        parts.add(str(text), str(source.get("thinking") or ""))
        last = chunk
        if chunk.get("done"):
            await _drain(lines)
            break
    if not last.get("done"):
        raise JobFailed("ollama's stream ended before done")
    parts.finish()
    text = "".join(parts.raw)
    thinking = "".join(parts.thinking) or None
    answer = dict(last)
    if chat:
        message = {**(last.get("message") or {}), "role": "assistant", "content": text}
        if thinking:
            message["thinking"] = thinking
        if calls:
            message["tool_calls"] = calls
        answer["message"] = message
    else:
        answer["response"] = text
        if thinking:
            answer["thinking"] = thinking
    return answer


async def read_openai(
    response: httpx.Response, parts: TextParts, provider: str, model: str
) -> dict[str, Any]:
    """OpenAI's chat completion chunks (SSE); the answer as a chat.completion object."""
    first: dict[str, Any] = {}
    finish_reason = None
    usage = None
    done = False
    calls: dict[int, dict[str, Any]] = {}  # streamed tool calls by index, arguments joined
    events = EventSource(response).aiter_sse()
    try:
        async for event in events:
            data = event.data.strip()
            if not data:
                continue  # a retry or id alone
            if data == "[DONE]":
                done = True
                await _drain(events)
                break
            chunk = _json_line(provider, data)
            if "error" in chunk:
                raise JobFailed(f"{provider} stream error: {str(chunk['error'])[:300]}")
            first = first or chunk
            usage = chunk.get("usage") or usage
            for choice in chunk.get("choices") or []:
                if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                    continue
                delta = choice.get("delta") or {}
                reasoning = delta.get("reasoning_content") or delta.get("reasoning") or ""
                parts.add(str(delta.get("content") or ""), str(reasoning))
                for call in delta.get("tool_calls") or []:
                    if isinstance(call, dict):
                        _add_call_delta(calls, call)
                finish_reason = choice.get("finish_reason") or finish_reason
    except SSEError as exc:  # not text/event-stream
        raise JobFailed(f"{provider} streamed no server-sent events: {exc}") from None
    if not done:
        raise JobFailed(f"{provider}'s stream ended before [DONE]")
    parts.finish()
    message: dict[str, Any] = {"role": "assistant", "content": "".join(parts.raw)}
    thinking = "".join(parts.thinking)
    if thinking:
        message["reasoning"] = thinking
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
        message["content"] = message["content"] or None
    return {
        "id": first.get("id"),
        "object": "chat.completion",
        "created": first.get("created"),
        "model": first.get("model") or model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": usage,
    }


def _add_call_delta(calls: dict[int, dict[str, Any]], delta: dict[str, Any]) -> None:
    """Folds one streamed tool-call delta in: id, type and name once, arguments piece by piece."""
    index = delta.get("index") if isinstance(delta.get("index"), int) else len(calls)
    call = calls.setdefault(
        index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
    )
    if delta.get("id"):
        call["id"] = delta["id"]
    function = delta.get("function") if isinstance(delta.get("function"), dict) else {}
    if function.get("name"):
        call["function"]["name"] += str(function["name"])
    if function.get("arguments"):
        call["function"]["arguments"] += str(function["arguments"])
