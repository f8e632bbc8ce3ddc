"""Real concurrent claimers: every job is claimed exactly once and none is lost,
also with two core replicas on one database."""

from __future__ import annotations

import asyncio
import random

import asyncpg

from core.runtime import RunningCore
from proto import llm_pb2 as pb
from proto.client import CoreClient
from testkit.support import start_core

JOBS = 400
CLAIMERS = 10


async def _drain(client: CoreClient, worker_id: str, seen: list[str]) -> None:
    """Claims in random batch sizes and completes until a claim comes back empty twice."""
    empty = 0
    while empty < 2:
        jobs = await client.claim(
            worker_id=worker_id,
            kinds=["echo"],
            lease_seconds=60,
            max_jobs=random.randint(1, 4),
            wait_seconds=0.2,
        )
        if not jobs:
            empty += 1
            continue
        empty = 0
        seen.extend(j.id for j in jobs)
        if len(jobs) == 1:
            await client.complete(
                worker_id=worker_id, job_id=jobs[0].id, lease_token=jobs[0].lease_token, result=1
            )
        else:
            results = await client.complete_many(
                [
                    pb.CompleteJobRequest(
                        worker_id=worker_id, job_id=j.id, lease_token=j.lease_token, result_json="1"
                    )
                    for j in jobs
                ]
            )
            assert all(r.ok and r.status == "done" for r in results)


async def _run_claimers(addresses: list[str], db: asyncpg.Connection) -> None:
    async with CoreClient(addresses[0]) as submitter:
        for _ in range(JOBS // 100):
            await submitter.submit_jobs(
                [pb.SubmitJobRequest(kind="echo", payload_json="{}") for _ in range(100)]
            )
    clients = [CoreClient(addresses[i % len(addresses)]) for i in range(CLAIMERS)]
    seen: list[list[str]] = [[] for _ in range(CLAIMERS)]
    try:
        await asyncio.gather(*[_drain(c, f"w{i}", seen[i]) for i, c in enumerate(clients)])
    finally:
        for client in clients:
            await client.close()
    claimed = [job_id for batch in seen for job_id in batch]
    assert len(claimed) == JOBS and len(set(claimed)) == JOBS, "a job was claimed twice or lost"
    assert sum(1 for batch in seen if batch) > 1, "only one claimer got work"
    rows = await db.fetch("SELECT status, attempts, count(*) FROM jobs GROUP BY 1, 2")
    assert [tuple(r) for r in rows] == [("done", 1, JOBS)]
    attempts = await db.fetchval("SELECT count(*) FROM job_attempts")
    assert attempts == JOBS


async def test_concurrent_claimers_take_each_job_exactly_once(
    core: RunningCore, db: asyncpg.Connection
) -> None:
    await _run_claimers([core.grpc_addr], db)


async def test_two_core_replicas_share_one_queue(
    core: RunningCore, database_url: str, db: asyncpg.Connection
) -> None:
    async with start_core(database_url) as other:
        await _run_claimers([core.grpc_addr, other.grpc_addr], db)


async def test_concurrent_sweepers_requeue_each_expired_job_once(
    core: RunningCore, database_url: str, db: asyncpg.Connection
) -> None:
    async with CoreClient(core.grpc_addr) as client:
        await client.submit_jobs(
            [pb.SubmitJobRequest(kind="echo", payload_json="{}") for _ in range(200)]
        )
        claimed = await client.claim(
            worker_id="gone", kinds=["echo"], lease_seconds=60, max_jobs=200
        )
        assert len(claimed) == 200
    # No background sweeps on the second replica: every sweep is one this test counts.
    async with start_core(database_url, maintenance=False) as other:
        await db.execute("UPDATE jobs SET lease_until = now() - interval '1 second'")
        results = await asyncio.gather(
            *[rt.sweeper.run_once() for rt in (core.runtime, other.runtime) for _ in range(3)]
        )
    assert sum(r.requeued_or_failed for r in results) == 200
    retries = await db.fetchval("SELECT count(*) FROM job_events WHERE type = 'retry'")
    assert retries == 200
    assert await db.fetchval("SELECT count(*) FROM jobs WHERE status = 'queued'") == 200
