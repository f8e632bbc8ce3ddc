"""Latency the MCP bridge adds: the same calls straight to core and through the bridge.

Run against `llm-mcp up` (defaults: core http://127.0.0.1:8080, bridge http://127.0.0.1:3333):

    .venv/bin/python -m bench.bridge_latency --n 200

Prints median and p95 in milliseconds for: GET a job (core HTTP, bridge HTTP, MCP get_job in
both protocol eras), POST a job (core, bridge), and an echo job's round trip through MCP
(submit_job + wait_job, with a worker running).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from mcp import Client


async def timed(n: int, call: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    await call()  # warm-up
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


async def main(core_url: str, bridge_url: str, n: int) -> None:
    rows: list[tuple[str, tuple[float, float]]] = []
    async with httpx.AsyncClient(timeout=30) as http:
        job_id = (await http.post(f"{bridge_url}/submit", json={"kind": "echo"})).json()["job_id"]
        rows.append(
            ("GET job, core HTTP", await timed(n, lambda: http.get(f"{core_url}/v1/jobs/{job_id}")))
        )
        rows.append(
            (
                "GET job, bridge HTTP",
                await timed(n, lambda: http.get(f"{bridge_url}/jobs/{job_id}")),
            )
        )
        body = {"kind": "bench.noop", "payload": {}}
        rows.append(
            (
                "POST job, core HTTP",
                await timed(n, lambda: http.post(f"{core_url}/v1/jobs", json=body)),
            )
        )
        rows.append(
            (
                "POST job, bridge HTTP",
                await timed(n, lambda: http.post(f"{bridge_url}/submit", json=body)),
            )
        )
    for mode in ("legacy", "auto"):
        async with Client(f"{bridge_url}/mcp", mode=mode) as client:
            era = client.protocol_version
            rows.append(
                (
                    f"MCP get_job ({era})",
                    await timed(n, lambda: client.call_tool("get_job", {"job_id": job_id})),
                )
            )

            async def round_trip() -> None:
                sub = await client.call_tool("submit_job", {"kind": "echo"})
                jid = sub.structured_content["job_id"]
                waited = await client.call_tool("wait_job", {"job_id": jid, "timeout_seconds": 30})
                assert waited.structured_content["finished"], waited

            rows.append((f"MCP echo round trip ({era})", await timed(max(n // 4, 5), round_trip)))
    print(f"{'call':<40} {'median ms':>10} {'p95 ms':>10}")
    for name, (median, p95) in rows:
        print(f"{name:<40} {median:>10.2f} {p95:>10.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--core-url", default="http://127.0.0.1:8080")
    parser.add_argument("--bridge-url", default="http://127.0.0.1:3333")
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.core_url.rstrip("/"), args.bridge_url.rstrip("/"), args.n))
