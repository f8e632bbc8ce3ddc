"""Routing overhead: POST /v1/llm/request -> result (core + a worker, followed over SSE) versus
calling the same fake Ollama directly, at 1 and 32 concurrent clients.

    .venv/bin/python -m bench.routing [--requests 400] [--database-url postgresql://...]

Starts its own Postgres (unless --database-url), core, one worker and a fake Ollama that answers
at once, each in its own process; prints p50/p99 of both paths and the difference. Two routes:
"fallback" (no devices known: the worker's OLLAMA_BASE_URL) and "device" (a known device,
late-bound under the per-device claim lock, capacity 64).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time

import asyncpg
import httpx

from bench.stack import routed_stack


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def direct_call(client: httpx.AsyncClient, ollama: str) -> float:
    started = time.perf_counter()
    answer = await client.post(
        f"{ollama}/api/generate", json={"model": "llama3.2:1b", "prompt": "hi", "stream": False}
    )
    answer.raise_for_status()
    return (time.perf_counter() - started) * 1000


async def routed_call(client: httpx.AsyncClient) -> float:
    return await _through_core(
        client, "/v1/llm/request", {"provider": "ollama", "task": "generate", "prompt": "hi"}
    )


async def echo_call(client: httpx.AsyncClient) -> float:
    """The queue alone (an echo job, no provider): what routing's figures stand on."""
    return await _through_core(client, "/v1/jobs", {"kind": "echo", "payload": {"prompt": "hi"}})


async def _through_core(client: httpx.AsyncClient, path: str, body: dict) -> float:
    started = time.perf_counter()
    answer = await client.post(path, json=body)
    answer.raise_for_status()
    job_id = answer.json()["job_id"]
    async with client.stream("GET", f"/v1/jobs/{job_id}/stream") as stream:
        event = ""
        async for line in stream.aiter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
                if event in ("done", "error", "canceled"):
                    if event != "done":
                        raise RuntimeError(f"job {job_id} ended {event}")
                    break
    return (time.perf_counter() - started) * 1000


async def run_clients(call, clients: int, total: int) -> list[float]:  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    remaining = iter(range(total))

    async def client_loop() -> None:
        for _ in remaining:
            latencies.append(await call())

    await asyncio.gather(*(client_loop() for _ in range(clients)))
    return latencies


async def server_side(conn: asyncpg.Connection, kind: str, since: float) -> str:
    """Medians from the jobs' own timestamps: queued -> claimed -> finished (Postgres clock)."""
    row = await conn.fetchrow(
        """SELECT percentile_cont(0.5) WITHIN GROUP
                    (ORDER BY extract(epoch FROM started_at - queued_at)) * 1000 AS claim,
                  percentile_cont(0.5) WITHIN GROUP
                    (ORDER BY extract(epoch FROM finished_at - started_at)) * 1000 AS run
             FROM jobs WHERE kind = $1 AND queued_at >= to_timestamp($2)""",
        kind,
        since,
    )
    return f"{kind}: queued->running {row['claim']:.2f} ms, running->done {row['run']:.2f} ms"


async def measure(
    core_url: str, ollama: str, requests: int, label: str, conn: asyncpg.Connection
) -> list[str]:
    lines = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with (
        httpx.AsyncClient(timeout=60, limits=limits) as direct,
        httpx.AsyncClient(base_url=core_url, timeout=60, limits=limits) as routed,
    ):
        for clients in (1, 32):
            # Warm-up, then the measured runs.
            await run_clients(lambda: direct_call(direct, ollama), clients, clients * 3)
            await run_clients(lambda: routed_call(routed), clients, clients * 3)
            base = await run_clients(lambda: direct_call(direct, ollama), clients, requests)
            since = time.time()
            full = await run_clients(lambda: routed_call(routed), clients, requests)
            echo = await run_clients(lambda: echo_call(routed), clients, requests)
            if clients == 1:
                for kind in ("ollama.generate", "echo"):
                    print(f"  {label} server side, {await server_side(conn, kind, since)}")
            b50, b99 = percentile(base, 0.5), percentile(base, 0.99)
            f50, f99 = percentile(full, 0.5), percentile(full, 0.99)
            e50, e99 = percentile(echo, 0.5), percentile(echo, 0.99)
            lines.append(
                f"{label:8} clients={clients:2}  direct p50={b50:6.2f} p99={b99:6.2f}  "
                f"routed p50={f50:6.2f} p99={f99:6.2f}  added p50={f50 - b50:6.2f} "
                f"p99={f99 - b99:6.2f}  | queue-only echo p50={e50:6.2f} p99={e99:6.2f} ms "
                f"(n={requests}, mean routed {statistics.fmean(full):.2f})"
            )
            print(lines[-1], flush=True)
    return lines


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    async with routed_stack(args.database_url) as stack:
        print(f"cores: {os.cpu_count()}; requests per point: {args.requests}")
        url, ollama = stack.core_url, stack.ollama_url
        lines = await measure(url, ollama, args.requests, "fallback", stack.conn)
        await stack.add_device("llama3.2:1b")
        lines += await measure(url, ollama, args.requests, "device", stack.conn)
    print(json.dumps({"results": lines}, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
