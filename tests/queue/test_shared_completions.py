"""Single completions (a custom executor reporting each job it ran) that arrive while a
completion is in flight share the next statement, and each caller is answered as if alone."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx

from core.errors import InvalidInput, JobNotFound
from core.queue.models import NewJob
from core.queue.schemas import ClaimRequest, CompleteRequest
from core.runtime import RunningCore
from testkit.sharing import jobs_table_held, notifications, started_queue
from testkit.support import eventually


async def _claim(http: httpx.AsyncClient, worker: str, count: int) -> list[dict[str, Any]]:
    body = {"worker_id": worker, "kinds": ["echo"], "max_jobs": count}
    answer = await http.post("/v1/workers/claim", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()["jobs"]


def _complete(
    http: httpx.AsyncClient, worker: str, job: dict[str, Any], result: Any
) -> asyncio.Task[httpx.Response]:
    body = {
        "worker_id": worker,
        "job_id": job["id"],
        "lease_token": job["lease_token"],
        "result": result,
    }
    return asyncio.create_task(http.post("/v1/workers/complete", json=body))


async def test_concurrent_completions_share_a_statement_and_each_caller_gets_its_answer(
    core: RunningCore, http: httpx.AsyncClient, db: asyncpg.Connection, database_url: str
) -> None:
    for _ in range(20):
        assert (await http.post("/v1/jobs", json={"kind": "echo"})).status_code == 201
    jobs = await _claim(http, "executor", 20)
    async with notifications(database_url) as sent:
        # Completions wait while the table is held: the first one's statement waits, the
        # others pile up behind it.
        async with jobs_table_held(database_url, "SHARE") as release:
            posts = [_complete(http, "executor", job, {"n": n}) for n, job in enumerate(jobs)]
            await eventually(lambda: core.runtime.queue.unanswered("completions") == 20)
            await release()
            answers = await asyncio.gather(*posts)
        await eventually(lambda: len(sent) >= 1)
    results = {
        str(row["id"]): row["result"]
        for row in await db.fetch("SELECT id, result::text FROM jobs WHERE status = 'done'")
    }
    assert [(a.status_code, a.json()["status"]) for a in answers] == [(200, "done")] * 20
    # Each job holds the result its own caller sent.
    assert [results[job["id"]] for job in jobs] == [f'{{"n": {n}}}' for n in range(20)]
    # The waiting statement, then at most one more for the nineteen behind it.
    assert 1 <= len(sent) <= 2


async def test_two_workers_finishing_one_job_together_are_each_held_to_their_own_lease(
    core: RunningCore, http: httpx.AsyncClient, db: asyncpg.Connection, database_url: str
) -> None:
    for _ in range(2):
        assert (await http.post("/v1/jobs", json={"kind": "echo"})).status_code == 201
    [other] = await _claim(http, "w", 1)
    [stale] = await _claim(http, "old", 1)
    # The old worker's lease runs out and a new one takes the job over.
    await db.execute(
        "UPDATE jobs SET lease_until = now() - interval '1 second' WHERE id = $1", stale["id"]
    )
    assert (await core.runtime.sweeper.run_once()).requeued_or_failed == 1
    [fresh] = await _claim(http, "new", 1)
    assert fresh["id"] == stale["id"]
    async with jobs_table_held(database_url, "SHARE") as release:
        first = _complete(http, "w", other, {"other": True})
        await eventually(lambda: core.runtime.queue.unanswered("completions") == 1)
        # Both reports of the job come while the first statement waits: they share a turn.
        late = _complete(http, "old", stale, {"from": "old"})
        current = _complete(http, "new", fresh, {"from": "new"})
        await eventually(lambda: core.runtime.queue.unanswered("completions") == 3)
        await release()
        answers = await asyncio.gather(first, late, current)
    row = await db.fetchrow(
        "SELECT status, worker_id, result::text FROM jobs WHERE id = $1", fresh["id"]
    )
    assert [a.status_code for a in answers] == [200, 409, 200]
    assert answers[1].json()["error"]["code"] == "lease_lost"
    assert (row["status"], row["worker_id"], row["result"]) == ("done", "new", '{"from": "new"}')


async def test_a_completion_that_cannot_be_written_fails_only_its_own_caller(
    database_url: str,
) -> None:
    async with started_queue(database_url) as (queue, pool):
        await queue.enqueue([NewJob(kind="echo") for _ in range(4)])
        jobs = await queue.claim(ClaimRequest(worker_id="w", kinds=["echo"], max_jobs=4))

        def report(n: int, job_id: str, result: Any) -> CompleteRequest:
            # As it would arrive past the API's checks (Postgres refuses a NUL in jsonb).
            return CompleteRequest.model_construct(
                worker_id="w",
                job_id=job_id,
                lease_token=str(jobs[n].lease_token),
                result=result,
                metrics=None,
                progress=None,
            )

        # Submitted together, so they share one statement.
        outcomes = await asyncio.gather(
            queue.complete(report(0, str(jobs[0].id), {"n": 0})),
            queue.complete(report(1, str(jobs[1].id), {"text": "a\x00b"})),
            queue.complete(report(2, "not-a-job", {"n": 2})),
            queue.complete(report(2, str(jobs[2].id), {"n": 2})),
            queue.complete(report(3, str(jobs[3].id), {"n": 3})),
            return_exceptions=True,
        )
        statuses = dict(await pool.fetch("SELECT id, status FROM jobs"))
    assert isinstance(outcomes[1], InvalidInput)  # a 422 naming the bad text
    assert isinstance(outcomes[2], JobNotFound)
    assert [outcomes[0], outcomes[3], outcomes[4]] == ["done"] * 3
    assert [statuses[j.id] for j in jobs] == ["done", "running", "done", "done"]
