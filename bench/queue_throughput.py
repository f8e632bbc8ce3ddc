"""Queue throughput and latency: core + load processes against Postgres on this machine.

    .venv/bin/python -m bench.queue_throughput [--jobs 6000] [--database-url URL]

Prints:
  1. end-to-end echo jobs/s (submit -> done), one RPC per step;
  2. the same with batch submit, batch claim and batch complete;
  3. enqueue -> claim latency p50/p99 with an idle long-polling worker;
  4. what one real `llm-mcp worker` process drains from a prefilled queue;
  5. the cost of the per-statement NOTIFY, measured on the bare SQL.
Core runs as its own process (as in production); load comes from separate processes.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import subprocess
import sys
import time

import asyncpg

from bench.common import core_process, describe_ms, postgres
from core.db.pool import create_pool
from core.queue.models import NewJob
from core.queue.store import JobStore
from proto import llm_pb2 as pb
from proto.client import CoreClient


async def _submitter(addr: str, jobs: int, concurrency: int, batch: int) -> None:
    """Submits exactly `jobs` echo jobs from `concurrency` tasks, in batches of `batch`."""
    async with CoreClient(addr) as client:
        shares = [jobs // concurrency + (i < jobs % concurrency) for i in range(concurrency)]

        async def submit(share: int) -> None:
            while share > 0:
                size = min(batch, share)
                if size == 1:
                    await client.submit_job("echo", {"n": 1})
                else:
                    await client.submit_jobs(
                        [pb.SubmitJobRequest(kind="echo", payload_json='{"n":1}')] * size
                    )
                share -= size

        await asyncio.gather(*[submit(share) for share in shares])


async def _claimer(
    addr: str, stop_after: int, concurrency: int, batch: int, done: mp.Value
) -> None:
    async with CoreClient(addr) as client:
        worker_id = f"bench-{os.getpid()}"

        async def loop() -> None:
            while done.value < stop_after:
                jobs = await client.claim(
                    worker_id=worker_id,
                    kinds=["echo"],
                    lease_seconds=60,
                    max_jobs=batch,
                    wait_seconds=0.5,
                )
                if not jobs:
                    continue
                if batch == 1:
                    for job in jobs:
                        await client.complete(
                            worker_id=worker_id,
                            job_id=job.id,
                            lease_token=job.lease_token,
                            result={"n": 1},
                        )
                else:
                    await client.complete_many(
                        [
                            pb.CompleteJobRequest(
                                worker_id=worker_id,
                                job_id=j.id,
                                lease_token=j.lease_token,
                                result_json=j.payload_json,
                            )
                            for j in jobs
                        ]
                    )
                with done.get_lock():
                    done.value += len(jobs)

        await asyncio.gather(*[loop() for _ in range(concurrency)])


def _run_submitter(*args: object) -> None:
    asyncio.run(_submitter(*args))  # type: ignore[arg-type]


def _run_claimer(*args: object) -> None:
    asyncio.run(_claimer(*args))  # type: ignore[arg-type]


async def _reset(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    await conn.execute("TRUNCATE jobs CASCADE")
    await conn.close()


def throughput(addr: str, database_url: str, jobs: int, batch: int) -> float:
    """End-to-end jobs/s: one submitting and one claiming process, many tasks each."""
    asyncio.run(_reset(database_url))
    tasks = 32 if batch == 1 else 2
    jobs -= jobs % (tasks * batch)  # every task submits the same whole number of batches
    done = mp.Value("q", 0)
    procs = [
        mp.Process(target=_run_submitter, args=(addr, jobs, tasks, batch)),
        mp.Process(target=_run_claimer, args=(addr, jobs, tasks, batch, done)),
    ]
    started = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - started
    finished = asyncio.run(_count_done(database_url))
    if finished != jobs:
        print(f"  WARNING: {finished} of {jobs} jobs done")
    return jobs / elapsed


async def _count_done(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    n = await conn.fetchval("SELECT count(*) FROM jobs WHERE status = 'done'")
    await conn.close()
    return int(n)


async def latency(addr: str, database_url: str, samples: int) -> list[float]:
    await _reset(database_url)
    results: list[float] = []
    async with CoreClient(addr) as worker, CoreClient(addr) as client:
        for _ in range(samples):
            claim = asyncio.create_task(
                worker.claim(worker_id="idle", kinds=["echo"], lease_seconds=60, wait_seconds=10)
            )
            await asyncio.sleep(0.01)  # the claim is now waiting in core
            started = time.perf_counter()
            await client.submit_job("echo", {})
            jobs = await claim
            results.append((time.perf_counter() - started) * 1000)
            assert len(jobs) == 1
    return results


def real_worker(addr: str, database_url: str, jobs: int) -> float:
    """`llm-mcp worker` (WORKER_CONCURRENCY=64) draining a prefilled queue: jobs/s."""
    asyncio.run(_reset(database_url))
    _run_submitter(addr, jobs, 4, 100)
    proc = subprocess.Popen(
        [sys.executable, "-m", "llm_mcp", "worker"],
        env={
            **os.environ,
            "CORE_GRPC_ADDR": addr,
            "WORKER_CONCURRENCY": "64",
            "WORKER_ID": "bench-real",
            "LOG_LEVEL": "WARNING",
        },
    )
    started = time.perf_counter()
    try:
        while asyncio.run(_count_done(database_url)) < jobs:
            time.sleep(0.05)
        return jobs / (time.perf_counter() - started)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


async def notify_cost(database_url: str, statements: int) -> tuple[float, float]:
    """Single-job inserts per second through the job store, with and without the NOTIFY
    trigger."""
    pool = await create_pool(database_url, min_size=1, max_size=1)
    store = JobStore(pool)
    rates = []
    try:
        for enabled in (True, False):
            await pool.execute("TRUNCATE jobs CASCADE")
            action = "ENABLE" if enabled else "DISABLE"
            await pool.execute(f"ALTER TABLE job_events {action} TRIGGER job_events_notify")
            started = time.perf_counter()
            for _ in range(statements):
                await store.insert_jobs([NewJob("echo", {"n": 1})])
            rates.append(statements / (time.perf_counter() - started))
    finally:
        await pool.execute("ALTER TABLE job_events ENABLE TRIGGER job_events_notify")
        await pool.close()
    return rates[0], rates[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=6000)
    parser.add_argument("--latency-samples", type=int, default=300)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; fsync on; core in its own process")
    with postgres(args.database_url) as database_url, core_process(database_url) as core:
        per_step = throughput(core.grpc_addr, database_url, args.jobs, batch=1)
        print(f"1. end-to-end echo, one RPC per step:       {per_step:8.0f} jobs/s")
        batched = throughput(core.grpc_addr, database_url, args.jobs * 2, batch=50)
        print(f"2. end-to-end echo, batches of 50:          {batched:8.0f} jobs/s")
        lat = asyncio.run(latency(core.grpc_addr, database_url, args.latency_samples))
        print(f"3. enqueue -> claim, idle long-poll worker: {describe_ms(lat)}")
        real = real_worker(core.grpc_addr, database_url, args.jobs)
        print(f"4. one llm-mcp worker (64 slots), prefilled: {real:8.0f} jobs/s")
        with_notify, without = asyncio.run(notify_cost(database_url, 3000))
        print(
            f"5. insert statements/s with NOTIFY {with_notify:.0f}, without {without:.0f} "
            f"({(1 - with_notify / without) * 100:.1f}% cost)"
        )


if __name__ == "__main__":
    main()
