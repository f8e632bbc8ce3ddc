"""Single jobs submitted while an insert is in flight share the next one: one statement, one
commit and one NOTIFY for many routed requests, each answered with its own job."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx

from core.errors import InvalidInput
from core.queue.models import NewJob
from core.runtime import RunningCore
from testkit.sharing import jobs_table_held, notifications, started_queue
from testkit.support import eventually


async def test_concurrent_submissions_share_an_insert_and_each_gets_its_own_job(
    core: RunningCore, http: httpx.AsyncClient, db: asyncpg.Connection, database_url: str
) -> None:
    async with notifications(database_url) as sent:
        # Inserts wait while the table is held: the first submission's statement waits, the
        # others pile up behind it.
        async with jobs_table_held(database_url, "SHARE") as release:
            posts = [
                asyncio.create_task(
                    http.post("/v1/jobs", json={"kind": "echo", "payload": {"n": n}})
                )
                for n in range(20)
            ]
            await eventually(lambda: core.runtime.queue.unanswered("inserts") == 20)
            await release()
            answers = await asyncio.gather(*posts)
        await eventually(lambda: len(sent) >= 1)
    jobs = {
        row["id"]: row["payload"] for row in await db.fetch("SELECT id, payload::text FROM jobs")
    }
    queued = await db.fetchval("SELECT count(*) FROM job_events WHERE type = 'queued'")
    assert [a.status_code for a in answers] == [201] * 20
    ids = [uuid.UUID(a.json()["job_id"]) for a in answers]
    assert len(set(ids)) == 20
    # Each caller got the job it submitted, not a neighbour's.
    assert [jobs[i] for i in ids] == [f'{{"n": {n}}}' for n in range(20)]
    assert queued == 20
    # The waiting statement, then at most one more for the nineteen behind it.
    assert 1 <= len(sent) <= 2


async def test_a_job_postgres_refuses_fails_only_its_own_submission(database_url: str) -> None:
    async with started_queue(database_url) as (queue, pool):
        taken = uuid.uuid4()
        await queue.enqueue([NewJob(kind="echo", id=taken)])
        # Submitted together, so they share one statement; one of them reuses an id.
        results = await asyncio.gather(
            *(
                queue.enqueue([NewJob(kind="echo", payload={"n": n}, id=taken if n == 2 else None)])
                for n in range(5)
            ),
            return_exceptions=True,
        )
        written = await pool.fetchval("SELECT count(*) FROM jobs")
    assert isinstance(results[2], InvalidInput)  # a 422 naming the duplicate key
    ok = [r for i, r in enumerate(results) if i != 2]
    assert all(isinstance(r, list) for r in ok)
    payloads = [r[0].job.payload for r in ok if isinstance(r, list)]
    assert payloads == [{"n": 0}, {"n": 1}, {"n": 3}, {"n": 4}]
    assert written == 5


async def test_a_reused_idempotency_key_still_answers_with_the_job_it_made(
    database_url: str,
) -> None:
    async with started_queue(database_url) as (queue, _pool):
        first, again, other = await asyncio.gather(
            queue.enqueue([NewJob(kind="echo", idempotency_key="k")]),
            queue.enqueue([NewJob(kind="echo", idempotency_key="k")]),
            queue.enqueue([NewJob(kind="echo")]),
        )
    # The two with the key race: whichever Postgres writes first creates the job, the other
    # is answered with it.
    assert sorted([first[0].created, again[0].created]) == [False, True]
    assert other[0].created
    assert again[0].job.id == first[0].job.id != other[0].job.id
