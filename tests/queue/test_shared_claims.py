"""Claims of one worker that come together (a custom executor's parallel long-polls, one per
free slot) share a statement, and each caller is answered as if it had claimed alone."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import asyncpg
import httpx

from core.db.pool import create_pool
from core.events.hub import CHANNEL, EventHub
from core.queue.models import NewJob
from core.queue.schemas import ClaimRequest
from core.queue.service import QueueService
from core.queue.store import JobStore
from core.runtime import RunningCore
from testkit.support import eventually


def _claim(http: httpx.AsyncClient, **fields: Any) -> asyncio.Task[httpx.Response]:
    body = {"worker_id": "executor", "kinds": ["echo"], **fields}
    return asyncio.create_task(http.post("/v1/workers/claim", json=body))


async def _locked(database_url: str) -> tuple[asyncpg.Connection, asyncpg.transaction.Transaction]:
    """A connection holding the jobs table so that claims wait (they lock rows in it)."""
    locker = await asyncpg.connect(database_url)
    hold = locker.transaction()
    await hold.start()
    await locker.execute("LOCK TABLE jobs IN EXCLUSIVE MODE")
    return locker, hold


async def test_parallel_claims_of_one_worker_share_a_statement_and_get_their_own_jobs(
    core: RunningCore, http: httpx.AsyncClient, database_url: str
) -> None:
    for _ in range(20):
        assert (await http.post("/v1/jobs", json={"kind": "echo"})).status_code == 201
    notifications: list[str] = []
    listener = await asyncpg.connect(database_url)
    locker, hold = await _locked(database_url)
    try:
        await listener.add_listener(CHANNEL, lambda *args: notifications.append(args[3]))
        claims = [_claim(http) for _ in range(20)]
        await eventually(lambda: core.runtime.queue.unanswered("claims") == 20)
        await hold.rollback()
        answers = await asyncio.gather(*claims)
        await eventually(lambda: len(notifications) >= 1)
        running = await listener.fetchval("SELECT count(*) FROM jobs WHERE status = 'running'")
    finally:
        await listener.close()
        await locker.close()
    assert [a.status_code for a in answers] == [200] * 20
    jobs = [a.json()["jobs"] for a in answers]
    assert [len(j) for j in jobs] == [1] * 20
    assert len({j[0]["id"] for j in jobs}) == 20 == running
    # The waiting statement, then at most one more for the nineteen behind it.
    assert 1 <= len(notifications) <= 2


async def test_a_claim_left_without_a_job_still_takes_a_delayed_one_when_it_is_due(
    core: RunningCore, http: httpx.AsyncClient, database_url: str
) -> None:
    for _ in range(2):
        assert (await http.post("/v1/jobs", json={"kind": "echo"})).status_code == 201
    due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    delayed = await http.post("/v1/jobs", json={"kind": "echo", "run_after": due.isoformat()})
    assert delayed.status_code == 201
    locker, hold = await _locked(database_url)
    try:
        # One claim waits for the table; two more pile up behind it.
        claims = []
        for _ in range(3):
            claims.append(_claim(http, wait_seconds=30.0))
            await eventually(lambda: core.runtime.queue.unanswered("claims") == len(claims))
        await hold.rollback()
        # The first takes a job, the second the other one; the third, left with nothing by
        # their shared statement, looks again when the delayed job is due, not at the end of
        # its 30 s wait.
        answers = await asyncio.wait_for(asyncio.gather(*claims), timeout=15)
    finally:
        await locker.close()
    jobs = [a.json()["jobs"] for a in answers]
    assert [len(j) for j in jobs] == [1, 1, 1]
    assert jobs[2][0]["id"] == delayed.json()["job_id"]


async def test_a_claim_that_went_away_before_its_statement_takes_no_job(
    database_url: str,
) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=2)
    store = JobStore(pool)
    queue = QueueService(store, EventHub(lambda: asyncpg.connect(database_url), store))
    queue.start()
    await queue.enqueue([NewJob(kind="echo"), NewJob(kind="echo")])
    locker, hold = await _locked(database_url)
    try:
        request = ClaimRequest(worker_id="w", kinds=["echo"])
        first = asyncio.create_task(queue.claim(request))
        await eventually(lambda: queue.unanswered("claims") == 1)
        gone = asyncio.create_task(queue.claim(request))
        await eventually(lambda: queue.unanswered("claims") == 2)
        gone.cancel()
        await hold.rollback()
        taken = await first
        await eventually(lambda: queue.unanswered("claims") == 0)
        statuses = sorted(r["status"] for r in await pool.fetch("SELECT status FROM jobs"))
    finally:
        await locker.close()
        await queue.stop()
        await pool.close()
    assert len(taken) == 1
    assert statuses == ["queued", "running"]
