"""Streaming overhead: a streamed drop-in request through llm-mcp versus streaming /api/chat
from the same fake Ollama directly, at 1 and 32 concurrent streams.

    .venv/bin/python -m bench.compat_stream [--requests 200] [--chunk-delay 0.005]
        [--api chat|completions|responses|messages]

`--api` picks the surface: OpenAI chat completions (the default), legacy completions, the
Responses API, or Anthropic's Messages API (all stream=true).

Starts its own Postgres, core, one worker and a fake Ollama (a known device, capacity 64) in
separate processes. The fake streams "echo: <prompt>" word by word, --chunk-delay apart.
Prints time to first token (TTFT: request sent -> first chunk with content) and total time
(-> [DONE] / done) p50/p95 for both paths, and what llm-mcp adds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time

import httpx

from bench.routing import percentile, run_clients
from bench.stack import routed_stack

MODEL = "llama3.2:1b"
PROMPT = " ".join(f"word{i}" for i in range(20))


async def direct(client: httpx.AsyncClient, ollama: str) -> tuple[float, float]:
    started = time.perf_counter()
    first = None
    body = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}], "stream": True}
    async with client.stream("POST", f"{ollama}/api/chat", json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if not line:
                continue
            chunk = json.loads(line)
            if first is None and chunk.get("message", {}).get("content"):
                first = time.perf_counter()
            if chunk.get("done"):
                break
    done = time.perf_counter()
    return ((first or done) - started) * 1000, (done - started) * 1000


def _chat_text(data: dict) -> tuple[str | None, bool]:
    return (data["choices"][0]["delta"].get("content") if data["choices"] else None), False


def _completion_text(data: dict) -> tuple[str | None, bool]:
    return (data["choices"][0].get("text") if data["choices"] else None), False


def _responses_text(data: dict) -> tuple[str | None, bool]:
    if data["type"] == "response.failed":
        raise RuntimeError(data["response"]["error"])
    return data.get("delta") if data["type"].endswith("output_text.delta") else None, (
        data["type"] == "response.completed"
    )


def _messages_text(data: dict) -> tuple[str | None, bool]:
    if data["type"] == "error":
        raise RuntimeError(data["error"])
    delta = data.get("delta") or {}
    return delta.get("text") if delta.get("type") == "text_delta" else None, (
        data["type"] == "message_stop"
    )


USER = [{"role": "user", "content": PROMPT}]
# path, body, reader of one data object: (text in it, whether the stream is over)
APIS = {
    "chat": ("/v1/chat/completions", {"messages": USER}, _chat_text),
    "completions": ("/v1/completions", {"prompt": PROMPT}, _completion_text),
    "responses": ("/v1/responses", {"input": PROMPT}, _responses_text),
    "messages": ("/v1/messages", {"messages": USER, "max_tokens": 256}, _messages_text),
}


async def through_core(client: httpx.AsyncClient, api: str = "chat") -> tuple[float, float]:
    path, fields, read = APIS[api]
    started = time.perf_counter()
    first = None
    body = {"model": MODEL, **fields, "stream": True}
    text = []
    async with client.stream("POST", path, json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if not line.startswith("data: "):
                continue
            data = line[6:]
            if data == "[DONE]":
                break
            chunk = json.loads(data)
            if "error" in chunk and api in ("chat", "completions"):
                raise RuntimeError(chunk["error"])
            content, over = read(chunk)
            if content:
                text.append(content)
                if first is None:
                    first = time.perf_counter()
            if over:
                break
    done = time.perf_counter()
    if "".join(text) != f"echo: {PROMPT}":
        raise RuntimeError(f"stream incomplete: {''.join(text)!r}")
    return ((first or done) - started) * 1000, (done - started) * 1000


def summary(label: str, clients: int, base: list, full: list) -> str:
    b_ttft, b_total = [t for t, _ in base], [t for _, t in base]
    f_ttft, f_total = [t for t, _ in full], [t for _, t in full]
    p = percentile
    return (
        f"clients={clients:2}  TTFT direct p50={p(b_ttft, 0.5):6.2f} p95={p(b_ttft, 0.95):6.2f}"
        f"  llm-mcp p50={p(f_ttft, 0.5):6.2f} p95={p(f_ttft, 0.95):6.2f}"
        f"  added p50={p(f_ttft, 0.5) - p(b_ttft, 0.5):6.2f} ms | total direct"
        f" p50={p(b_total, 0.5):6.2f}  llm-mcp p50={p(f_total, 0.5):6.2f}"
        f" p95={p(f_total, 0.95):6.2f}  added p50={p(f_total, 0.5) - p(b_total, 0.5):6.2f} ms"
        f"  ({label}, n={len(full)})"
    )


async def measure(
    core_url: str, ollama: str, requests: int, label: str, api: str = "chat"
) -> list[str]:
    lines = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with (
        httpx.AsyncClient(timeout=60, limits=limits) as plain,
        httpx.AsyncClient(base_url=core_url, timeout=60, limits=limits) as core,
    ):
        for clients in (1, 32):
            await run_clients(lambda: direct(plain, ollama), clients, clients * 2)
            await run_clients(lambda: through_core(core, api), clients, clients * 2)
            base = await run_clients(lambda: direct(plain, ollama), clients, requests)
            full = await run_clients(lambda: through_core(core, api), clients, requests)
            lines.append(summary(label, clients, base, full))
            print(lines[-1], flush=True)
    return lines


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--chunk-delay", type=float, default=0.005)
    parser.add_argument("--database-url")
    parser.add_argument("--api", choices=sorted(APIS), default="chat")
    args = parser.parse_args()
    async with routed_stack(args.database_url, fake_args=[str(args.chunk_delay)]) as stack:
        await stack.add_device(MODEL)
        print(
            f"cores: {os.cpu_count()}; streams per point: {args.requests}; "
            f"chunk delay {args.chunk_delay * 1000:.0f} ms, 21 chunks"
        )
        label = f"device, {APIS[args.api][0]}"
        lines = await measure(stack.core_url, stack.ollama_url, args.requests, label, args.api)
    print(json.dumps({"results": lines}, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
