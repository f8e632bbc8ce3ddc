"""Chaos under steady load: 2 core replicas, 3 workers, a private Postgres (fsync on).

    python -m bench.chaos --scenario all --seconds 40

Scenarios: worker-kill (SIGKILL once), worker-kill-loop (a worker SIGKILLed and restarted
every few seconds), worker-stop (SIGSTOP past the lease, then SIGCONT), core-kill (SIGKILL of
one replica), pg-restart (pg_ctl restart -m immediate), pg-terminate (pg_terminate_backend of
every core connection, LISTEN included). For each: acknowledged, finished, lost (must be 0),
completed twice (must be 0), hit max_attempts, seconds until throughput recovered, and
whether every sampled SSE client saw its job's terminal event.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from llm_mcp.pgcluster import LocalPostgres
from testkit.chaos import Cluster, Proc, tally
from testkit.sse import read_sse

SCENARIOS = (
    "worker-kill",
    "worker-kill-loop",
    "worker-stop",
    "core-kill",
    "pg-restart",
    "pg-terminate",
)


async def _healthy(url: str, within: float = 60) -> None:
    give_up = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2) as http:
        while time.monotonic() < give_up:
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{url}/health")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} not healthy")


async def _follow(urls: list[str], job_id: str, seen: set[str]) -> None:
    """An SSE client: reconnects with Last-Event-ID, to the next replica when one is gone."""
    last = "0"
    for attempt in range(10_000):
        url = urls[attempt % len(urls)]
        with contextlib.suppress(httpx.HTTPError):
            async with (
                httpx.AsyncClient(timeout=httpx.Timeout(10, read=60)) as http,
                http.stream(
                    "GET", f"{url}/v1/jobs/{job_id}/stream", headers={"last-event-id": last}
                ) as response,
            ):
                async for frame in read_sse(response):
                    last = frame.get("id", last)
                    if frame.get("event") in ("done", "error", "canceled"):
                        seen.add(job_id)
                        return
        await asyncio.sleep(0.2)


class Load:
    """Submits jobs steadily to both replicas (whichever answers); keeps what was acknowledged."""

    def __init__(self, urls: list[str], rate: float) -> None:
        self.urls = urls
        self.rate = rate
        self.acknowledged: list[str] = []
        self.followed: list[str] = []
        self.seen: set[str] = set()
        self.followers: list[asyncio.Task[None]] = []

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=5) as http:
            i = 0
            while not stop.is_set():
                i += 1
                kind = random.choice(["chaos.sleep", "echo"])
                body = {"kind": kind, "payload": {"seconds": 0.3, "i": i}, "max_attempts": 5}
                # Round robin; a replica that does not answer is skipped (as a balancer would).
                for n in range(len(self.urls)):
                    url = self.urls[(i + n) % len(self.urls)]
                    try:
                        answer = await http.post(f"{url}/v1/jobs", json=body)
                    except httpx.HTTPError:
                        continue
                    if answer.status_code == 201:
                        job_id = answer.json()["job_id"]
                        self.acknowledged.append(job_id)
                        if i % 10 == 0:  # one SSE client per ten jobs
                            self.followed.append(job_id)
                            self.followers.append(
                                asyncio.create_task(_follow([url, *self.urls], job_id, self.seen))
                            )
                    break
                await asyncio.sleep(1 / self.rate)


async def _throughput(dsn: str, since: float, until: float) -> float:
    conn = await asyncpg.connect(dsn)
    try:
        n = await conn.fetchval(
            "SELECT count(*) FROM jobs WHERE status = 'done' "
            "AND finished_at BETWEEN to_timestamp($1) AND to_timestamp($2)",
            since,
            until,
        )
    finally:
        await conn.close()
    return n / max(until - since, 1e-9)


async def _recovery_seconds(dsn: str, fault_at: float, baseline: float, end: float) -> float | None:
    """First 2-second window after the fault whose completions reach 80% of the baseline."""
    t = fault_at
    while t + 2 <= end:
        with contextlib.suppress(OSError, asyncpg.PostgresError):
            if await _throughput(dsn, t, t + 2) >= 0.8 * baseline:
                return round(t - fault_at, 1)
        t += 0.5
    return None


async def _inject(name: str, c: Cluster, pg: LocalPostgres, procs: dict[str, Any]) -> None:
    if name == "worker-kill":
        procs["w1"].kill()
    elif name == "worker-kill-loop":
        for n in range(4):
            victim: Proc = procs["w1"]
            victim.kill()
            procs["w1"] = c.worker(f"w1-{n}", procs["grpc1"])
            await asyncio.sleep(3)
    elif name == "worker-stop":
        procs["w1"].stop()
        await asyncio.sleep(6)  # twice the 3 s lease
        procs["w1"].cont()
    elif name == "core-kill":
        procs["core1"].kill()
    elif name == "pg-restart":
        pg._run(
            "pg_ctl", "-D", str(pg.data_dir), "-l", str(pg.log_file),
            "-m", "immediate", "-w", "-t", "60", "restart",
        )  # fmt: skip
    elif name == "pg-terminate":
        conn = await asyncpg.connect(c.database_url)
        try:
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await conn.close()


async def scenario(name: str, seconds: float, rate: float) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix=f"llm-mcp-chaos-{name}-"))
    pg = LocalPostgres(tmp / "pg", fsync=True, prefer_system=True)
    try:
        pg.start()
        admin = await asyncpg.connect(pg.dsn)
        await admin.execute("CREATE DATABASE chaos")
        await admin.close()
        c = Cluster(tmp, pg.dsn_for("chaos"))
        try:
            core1, url1, grpc1 = c.core("core1")
            core2, url2, grpc2 = c.core("core2")
            await _healthy(url1)
            await _healthy(url2)
            procs: dict[str, Any] = {"core1": core1, "core2": core2, "grpc1": grpc1}
            procs["w1"] = c.worker("w1", grpc1)
            c.worker("w2", grpc2)
            c.worker("w3", grpc2)
            load = Load([url1, url2], rate)
            stop = asyncio.Event()
            loader = asyncio.create_task(load.run(stop))
            warmup = seconds / 3
            await asyncio.sleep(warmup)
            fault_at = time.time()
            baseline = await _throughput(c.database_url, fault_at - warmup + 2, fault_at)
            await _inject(name, c, pg, procs)
            await asyncio.sleep(max(seconds - warmup, 5))
            stop.set()
            await loader
            end = time.time()
            acked = load.acknowledged
            drain_until = time.monotonic() + 120
            while time.monotonic() < drain_until:
                with contextlib.suppress(OSError, asyncpg.PostgresError):
                    conn = await asyncpg.connect(c.database_url)
                    try:
                        left = await conn.fetchval(
                            "SELECT count(*) FROM jobs WHERE id = ANY($1::uuid[]) "
                            "AND status IN ('queued', 'running')",
                            acked,
                        )
                    finally:
                        await conn.close()
                    if left == 0:
                        break
                await asyncio.sleep(0.5)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*load.followers), 30)
            for task in load.followers:
                task.cancel()
            conn = await asyncpg.connect(c.database_url)
            try:
                t = await tally(conn, acked)
            finally:
                await conn.close()
            return {
                "scenario": name,
                "acknowledged": t.acknowledged,
                "finished": t.done + t.error,
                "lost": t.lost + t.unfinished,
                "completed_twice": t.completed_twice,
                "hit_max_attempts": t.hit_max_attempts,
                "lease_expired_attempts": t.lease_expired_attempts,
                "baseline_jobs_per_s": round(baseline, 1),
                "recovery_s": await _recovery_seconds(c.database_url, fault_at, baseline, end),
                "sse_terminal_seen": f"{len(load.seen & set(load.followed))}/{len(load.followed)}",
            }
        finally:
            c.close()
    finally:
        pg.stop(mode="immediate")
        shutil.rmtree(tmp, ignore_errors=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default="all", choices=("all", *SCENARIOS))
    parser.add_argument("--seconds", type=float, default=40.0, help="per scenario")
    parser.add_argument("--rate", type=float, default=20.0, help="jobs submitted per second")
    args = parser.parse_args()
    names = SCENARIOS if args.scenario == "all" else (args.scenario,)
    for name in names:
        result = await scenario(name, args.seconds, args.rate)
        print(" ".join(f"{k}={v}" for k, v in result.items()), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
