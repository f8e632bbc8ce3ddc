"""The calls of bench.overhead: one function per (system, route, stream) that sends one request,
checks the answer and returns (ms to the first token, ms to the end).

The load generator shares the cores with what it measures, so it is aiohttp: httpx spent
1.1 to 2.3 ms of CPU per request here, aiohttp 0.2 to 0.4 ms, and with httpx the bench could
not send more than about 500 requests/s even straight to the fake (wrk: 5,000).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable

import aiohttp

from bench.overhead_procs import LITELLM_KEY

MODEL = "llama3.2:1b"
# The fake answers "echo: <prompt>" word by word: 19 words are 20 streamed chunks.
PROMPT = " ".join(f"w{i}" for i in range(19))
ANSWER = f"echo: {PROMPT}"
MESSAGES = [{"role": "user", "content": PROMPT}]

Call = Callable[[], Awaitable[tuple[float, float]]]


def _check(text: str) -> None:
    if text != ANSWER:
        raise RuntimeError(f"wrong answer: {text!r}")


def _ms(started: float, at: float | None) -> float:
    return ((at or time.perf_counter()) - started) * 1000


async def ollama_chat(http: aiohttp.ClientSession, base: str, stream: bool) -> tuple[float, float]:
    """POST /api/chat (the fake itself, or llm-mcp's Ollama-compatible route)."""
    started, first = time.perf_counter(), None
    body = {"model": MODEL, "messages": MESSAGES, "stream": stream}
    if not stream:
        async with http.post(f"{base}/api/chat", json=body) as answer:
            answer.raise_for_status()
            _check((await answer.json())["message"]["content"])
        return _ms(started, None), _ms(started, None)
    text = []
    async with http.post(f"{base}/api/chat", json=body) as response:
        response.raise_for_status()
        async for raw in response.content:
            line = raw.strip()
            if not line:
                continue
            chunk = json.loads(line)
            if content := chunk.get("message", {}).get("content"):
                first = first or time.perf_counter()
                text.append(content)
            if chunk.get("done"):
                break
    _check("".join(text))
    return _ms(started, first), _ms(started, None)


async def chat_completions(
    http: aiohttp.ClientSession, base: str, stream: bool, headers: dict[str, str] | None = None
) -> tuple[float, float]:
    started, first = time.perf_counter(), None
    body = {"model": MODEL, "messages": MESSAGES, "stream": stream}
    if not stream:
        async with http.post(f"{base}/v1/chat/completions", json=body, headers=headers) as answer:
            answer.raise_for_status()
            _check((await answer.json())["choices"][0]["message"]["content"])
        return _ms(started, None), _ms(started, None)
    text = []
    async with http.post(f"{base}/v1/chat/completions", json=body, headers=headers) as response:
        response.raise_for_status()
        async for raw in response.content:
            line = raw.decode().strip()
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            chunk = json.loads(data)
            if "error" in chunk:
                raise RuntimeError(chunk["error"])
            delta = chunk["choices"][0].get("delta", {}) if chunk.get("choices") else {}
            if content := delta.get("content"):
                first = first or time.perf_counter()
                text.append(content)
    _check("".join(text))
    return _ms(started, first), _ms(started, None)


async def llm_request(http: aiohttp.ClientSession, base: str, stream: bool) -> tuple[float, float]:
    """POST /v1/llm/request, then its job's SSE stream until the terminal event."""
    started, first = time.perf_counter(), None
    body = {"task": "chat", "provider": "ollama", "messages": MESSAGES, "stream": stream}
    async with http.post(f"{base}/v1/llm/request", json=body) as answer:
        answer.raise_for_status()
        job_id = (await answer.json())["job_id"]
    event, text = "", []
    async with http.get(f"{base}/v1/jobs/{job_id}/stream") as response:
        response.raise_for_status()
        async for raw in response.content:
            line = raw.decode().strip()
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event == "progress":
                delta = json.loads(line[5:]).get("data", {}).get("delta")
                if delta:
                    first = first or time.perf_counter()
                    text.append(delta)
            elif line.startswith("data:") and event in ("done", "error", "canceled"):
                if event != "done":
                    raise RuntimeError(f"job {job_id} ended {event}")
                data = json.loads(line[5:])
                result = (data.get("job") or data).get("result") or {}
                _check(result.get("response") or result.get("message", {}).get("content", ""))
                break
    if stream:
        _check("".join(text))
    return _ms(started, first), _ms(started, None)


def calls_for(
    http: aiohttp.ClientSession, system: str, route: str, stream: bool, url: str, fake: str
) -> Call | None:
    """The call for a cell; None where the system has no such route (LiteLLM: OpenAI only)."""
    if system == "direct":
        return lambda: ollama_chat(http, fake, stream)
    if system == "litellm":
        if route != "chat":
            return None
        key = {"Authorization": f"Bearer {LITELLM_KEY}"}
        return lambda: chat_completions(http, url, stream, key)
    by_route = {"chat": chat_completions, "ollama": ollama_chat, "llm": llm_request}
    fn = by_route[route]
    return lambda: fn(http, url, stream)
