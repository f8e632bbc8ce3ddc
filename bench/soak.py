"""Soak: steady load on core + 2 workers for --minutes (30 shows a trend), with retention at
work; prints core and worker RSS and the jobs tables' and indexes' size over time.

    python -m bench.soak --minutes 30 --rate 20 --retention-seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
import psutil

from llm_mcp.pgcluster import LocalPostgres
from testkit.chaos import Cluster

SIZES = """
SELECT pg_table_size('jobs') / 1024 AS jobs_kb,
       pg_indexes_size('jobs') / 1024 AS jobs_idx_kb,
       pg_total_relation_size('job_events') / 1024 AS events_kb,
       pg_total_relation_size('job_attempts') / 1024 AS attempts_kb,
       (SELECT count(*) FROM jobs) AS job_rows
"""


def _rss_mb(pid: int) -> float:
    with contextlib.suppress(psutil.Error):
        return round(psutil.Process(pid).memory_info().rss / 2**20, 1)
    return float("nan")


async def _load(url: str, rate: float, stop: asyncio.Event, counts: dict[str, int]) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        while not stop.is_set():
            with contextlib.suppress(httpx.HTTPError):
                answer = await http.post(
                    f"{url}/v1/jobs",
                    json={"kind": "chaos.sleep", "payload": {"seconds": 0.05, "pad": "x" * 500}},
                )
                counts["acknowledged"] += answer.status_code == 201
            await asyncio.sleep(1 / rate)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=20.0, help="jobs per second")
    parser.add_argument("--retention-seconds", type=float, default=60.0)
    parser.add_argument("--sample-seconds", type=float, default=30.0)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="llm-mcp-soak-"))
    pg = LocalPostgres(tmp / "pg", fsync=True, prefer_system=True)
    try:
        pg.start()
        admin = await asyncpg.connect(pg.dsn)
        await admin.execute("CREATE DATABASE soak")
        await admin.close()
        c = Cluster(tmp, pg.dsn_for("soak"))
        try:
            core, url, grpc_addr = c.core(
                "core",
                JOB_RETENTION_DAYS=str(args.retention_seconds / 86400),
                RETENTION_INTERVAL=str(min(args.retention_seconds / 2, 30)),
                LOG_LEVEL="WARNING",
            )
            async with httpx.AsyncClient() as http:
                for _ in range(600):
                    with contextlib.suppress(httpx.HTTPError):
                        if (await http.get(f"{url}/health")).status_code == 200:
                            break
                    await asyncio.sleep(0.1)
            workers = [c.worker(f"soak-{i}", grpc_addr, LOG_LEVEL="WARNING") for i in range(2)]
            counts = {"acknowledged": 0}
            stop = asyncio.Event()
            loader = asyncio.create_task(_load(url, args.rate, stop, counts))
            conn = await asyncpg.connect(c.database_url)
            started = time.monotonic()
            print("t_s core_rss_mb worker_rss_mb jobs_kb jobs_idx_kb events_kb attempts_kb "
                  "job_rows acknowledged", flush=True)  # fmt: skip
            while True:
                sizes = await conn.fetchrow(SIZES)
                elapsed = time.monotonic() - started
                print(
                    f"{elapsed:.0f} {_rss_mb(core.popen.pid)} "
                    f"{max(_rss_mb(w.popen.pid) for w in workers)} "
                    + " ".join(str(v) for v in sizes.values())
                    + f" {counts['acknowledged']}",
                    flush=True,
                )
                if elapsed >= args.minutes * 60:
                    break
                await asyncio.sleep(args.sample_seconds)
            stop.set()
            await loader
            await conn.close()
        finally:
            c.close()
    finally:
        pg.stop(mode="immediate")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
