"""Claims of one worker that come together (a custom executor's parallel long-polls, one per
free slot) share a statement, and each caller is answered as if it had claimed alone."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import asyncpg
import httpx

from core.queue.models import NewJob
from core.queue.schemas import ClaimRequest
from core.runtime import RunningCore
from testkit.sharing import jobs_table_held, notifications, started_queue
from testkit.support import eventually


def _claim(http: httpx.AsyncClient, **fields: Any) -> asyncio.Task[httpx.Response]:
    body = {"worker_id": "executor", "kinds": ["echo"], **fields}
    return asyncio.create_task(http.post("/v1/workers/claim", json=body))


async def test_parallel_claims_of_one_worker_share_a_statement_and_get_their_own_jobs(
    core: RunningCore, http: httpx.AsyncClient, db: asyncpg.Connection, database_url: str
) -> None:
    for _ in range(20):
        assert (await http.post("/v1/jobs", json={"kind": "echo"})).status_code == 201
    async with notifications(database_url) as sent:
        # Claims lock rows: while the table is held the first claim's statement waits, the
        # others pile up behind it.
        async with jobs_table_held(database_url, "EXCLUSIVE") as release:
            claims = [_claim(http) for _ in range(20)]
            await eventually(lambda: core.runtime.queue.unanswered("claims") == 20)
            await release()
            answers = await asyncio.gather(*claims)
        await eventually(lambda: len(sent) >= 1)
    running = await db.fetchval("SELECT count(*) FROM jobs WHERE status = 'running'")
    assert [a.status_code for a in answers] == [200] * 20
    jobs = [a.json()["jobs"] for a in answers]
    assert [len(j) for j in jobs] == [1] * 20
    assert len({j[0]["id"] for j in jobs}) == 20 == running
    # The waiting statement, then at most one more for the nineteen behind it.
    assert 1 <= len(sent) <= 2


async def test_a_claim_left_without_a_job_still_takes_a_delayed_one_when_it_is_due(
    core: RunningCore, http: httpx.AsyncClient, database_url: str
) -> None:
    for _ in range(2):
        assert (await http.post("/v1/jobs", json={"kind": "echo"})).status_code == 201
    due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    delayed = await http.post("/v1/jobs", json={"kind": "echo", "run_after": due.isoformat()})
    assert delayed.status_code == 201
    async with jobs_table_held(database_url, "EXCLUSIVE") as release:
        # One claim waits for the table; two more pile up behind it.
        claims = []
        for _ in range(3):
            claims.append(_claim(http, wait_seconds=30.0))
            await eventually(lambda: core.runtime.queue.unanswered("claims") == len(claims))
        await release()
        # The first takes a job, the second the other one; the third, left with nothing by
        # their shared statement, looks again when the delayed job is due, not at the end of
        # its 30 s wait.
        answers = await asyncio.wait_for(asyncio.gather(*claims), timeout=15)
    jobs = [a.json()["jobs"] for a in answers]
    assert [len(j) for j in jobs] == [1, 1, 1]
    assert jobs[2][0]["id"] == delayed.json()["job_id"]


async def test_a_claim_that_went_away_before_its_statement_takes_no_job(
    db: asyncpg.Connection, database_url: str
) -> None:
    async with started_queue(database_url) as (queue, _pool):
        await queue.enqueue([NewJob(kind="echo"), NewJob(kind="echo")])
        request = ClaimRequest(worker_id="w", kinds=["echo"])
        async with jobs_table_held(database_url, "EXCLUSIVE") as release:
            first = asyncio.create_task(queue.claim(request))
            await eventually(lambda: queue.unanswered("claims") == 1)
            gone = asyncio.create_task(queue.claim(request))
            await eventually(lambda: queue.unanswered("claims") == 2)
            gone.cancel()
            await release()
            taken = await first
    # Stopping the queue waited for every claim statement it had started.
    statuses = sorted(r["status"] for r in await db.fetch("SELECT status FROM jobs"))
    assert len(taken) == 1
    assert statuses == ["queued", "running"]
