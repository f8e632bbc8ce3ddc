"""What the queue promises: order, filters, fencing, expiry, deadlines, retries, idempotency,
cancel — against a real core and Postgres. Time is moved by rewriting timestamps in SQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from core.runtime import RunningCore
from proto import llm_pb2 as pb
from proto.client import CoreClient, InvalidInput, LeaseLost
from testkit.support import eventually, sql_count, start_core


async def submit(http: httpx.AsyncClient, kind: str = "echo", **fields: Any) -> str:
    response = await http.post("/v1/jobs", json={"kind": kind, "payload": {}, **fields})
    assert response.status_code == 201, response.text
    return response.json()["job_id"]


async def claim(http: httpx.AsyncClient, worker: str, kinds: list[str], **fields: Any) -> Any:
    body = {"worker_id": worker, "kinds": kinds, "lease_seconds": 60, **fields}
    response = await http.post("/v1/workers/claim", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def expire_lease(db: asyncpg.Connection, job_id: str) -> None:
    await db.execute(
        "UPDATE jobs SET lease_until = now() - interval '1 second' WHERE id = $1", job_id
    )


async def test_claims_follow_priority_then_age_and_kinds(http: httpx.AsyncClient) -> None:
    low = await submit(http, priority=0)
    high = await submit(http, priority=5)
    low2 = await submit(http, priority=0)
    other = await submit(http, kind="other", priority=100)
    order = []
    for _ in range(3):
        order.append((await claim(http, "w", ["echo"]))["job"]["id"])
    assert order == [high, low, low2]
    assert (await claim(http, "w", ["echo"]))["job"] is None
    assert (await claim(http, "w", ["other", "echo"]))["job"]["id"] == other


async def test_batch_claim_returns_several_jobs(http: httpx.AsyncClient) -> None:
    ids = [await submit(http) for _ in range(7)]
    answer = await claim(http, "w", ["echo"], max_jobs=5)
    assert [j["id"] for j in answer["jobs"]] == ids[:5]
    assert len({j["lease_token"] for j in answer["jobs"]}) == 5


async def test_stale_worker_is_fenced_off_after_its_lease_expired(
    core: RunningCore, http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    job_id = await submit(http)
    first = (await claim(http, "old", ["echo"]))["job"]
    await expire_lease(db, job_id)
    assert (await core.runtime.sweeper.run_once()).requeued_or_failed == 1
    second = (await claim(http, "new", ["echo"]))["job"]
    assert second["id"] == job_id and second["attempts"] == 2
    lease_before = await db.fetchval("SELECT lease_until FROM jobs WHERE id = $1", job_id)

    stale = {"worker_id": "old", "job_id": job_id, "lease_token": first["lease_token"]}
    for path, extra in [
        ("/v1/workers/heartbeat", {"extend_seconds": 600}),
        ("/v1/workers/complete", {"result": {"stale": True}}),
        ("/v1/workers/fail", {"error": "late"}),
    ]:
        response = await http.post(path, json={**stale, **extra})
        assert response.status_code == 409, (path, response.text)
        assert response.json()["error"]["code"] == "lease_lost"
    row = await db.fetchrow("SELECT status, worker_id, lease_until FROM jobs WHERE id = $1", job_id)
    assert (row["status"], row["worker_id"], row["lease_until"]) == ("running", "new", lease_before)

    # Same worker id but the old token (a restarted worker reusing its id) is fenced off too.
    response = await http.post(
        "/v1/workers/complete",
        json={"worker_id": "new", "job_id": job_id, "lease_token": first["lease_token"]},
    )
    assert response.status_code == 409

    ok = await http.post(
        "/v1/workers/complete",
        json={
            "worker_id": "new",
            "job_id": job_id,
            "lease_token": second["lease_token"],
            "result": {"fresh": True},
        },
    )
    assert ok.status_code == 200
    late_fail = await http.post(
        "/v1/workers/fail",
        json={
            "worker_id": "new",
            "job_id": job_id,
            "lease_token": second["lease_token"],
            "error": "too late",
        },
    )
    assert late_fail.status_code == 409
    job = (await http.get(f"/v1/jobs/{job_id}")).json()
    assert job["status"] == "done" and job["result"] == {"fresh": True}
    outcomes = await db.fetch(
        "SELECT attempt, worker_id, outcome FROM job_attempts WHERE job_id = $1 ORDER BY attempt",
        job_id,
    )
    assert [tuple(r) for r in outcomes] == [(1, "old", "lease_expired"), (2, "new", "done")]


async def test_expired_jobs_end_in_error_once_attempts_are_exhausted(
    core: RunningCore, http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    job_id = await submit(http, max_attempts=2)
    for attempt in (1, 2):
        job = (await claim(http, f"w{attempt}", ["echo"]))["job"]
        assert job["attempts"] == attempt
        await expire_lease(db, job_id)
        await core.runtime.sweeper.run_once()
    job = (await http.get(f"/v1/jobs/{job_id}")).json()
    assert job["status"] == "error"
    assert "lease expired" in job["error"] and "(2)" in job["error"]
    assert (await claim(http, "w3", ["echo"]))["job"] is None


async def test_jobs_past_their_deadline_end_as_error(
    core: RunningCore, http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    queued = await submit(http, deadline_at=soon)
    running = await submit(http, deadline_at=soon, priority=-1)
    assert (await claim(http, "w", ["echo"]))["job"]["id"] == queued
    # Now both deadlines pass; `queued` is running, `running` still queued (names from submit).
    await db.execute("UPDATE jobs SET deadline_at = now() - interval '1 second'")
    assert (await claim(http, "w", ["echo"]))["job"] is None  # past deadline: never claimed
    assert (await core.runtime.sweeper.run_once()).past_deadline == 2
    for job_id in (queued, running):
        job = (await http.get(f"/v1/jobs/{job_id}")).json()
        assert (job["status"], job["error"]) == ("error", "deadline exceeded")


async def test_retry_waits_for_its_backoff_and_non_retryable_ends_at_once(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    job_id = await submit(http)
    job = (await claim(http, "w", ["echo"]))["job"]
    before = datetime.now(UTC)
    failed = await http.post(
        "/v1/workers/fail",
        json={
            "worker_id": "w",
            "job_id": job_id,
            "lease_token": job["lease_token"],
            "error": "provider timeout",
        },
    )
    assert failed.status_code == 200
    answer = failed.json()
    assert answer["status"] == "queued"
    # Retry base is 1 s with equal jitter: at least half a second away.
    assert datetime.fromisoformat(answer["run_after"]) >= before + timedelta(seconds=0.5)
    assert (await claim(http, "w", ["echo"]))["job"] is None
    await db.execute("UPDATE jobs SET run_after = now() WHERE id = $1", job_id)
    again = (await claim(http, "w", ["echo"]))["job"]
    assert again["id"] == job_id and again["attempts"] == 2 and again["error"] == "provider timeout"

    permanent = await http.post(
        "/v1/workers/fail",
        json={
            "worker_id": "w",
            "job_id": job_id,
            "lease_token": again["lease_token"],
            "error": "400 bad request",
            "retryable": False,
        },
    )
    assert permanent.json()["status"] == "error"
    job = (await http.get(f"/v1/jobs/{job_id}")).json()
    assert (job["status"], job["error"], job["attempts"]) == ("error", "400 bad request", 2)


async def test_release_hands_the_job_back_without_spending_an_attempt(
    http: httpx.AsyncClient,
) -> None:
    job_id = await submit(http, max_attempts=1)
    job = (await claim(http, "w", ["echo"]))["job"]
    released = await http.post(
        "/v1/workers/fail",
        json={
            "worker_id": "w",
            "job_id": job_id,
            "lease_token": job["lease_token"],
            "error": "worker shutting down",
            "release": True,
        },
    )
    assert released.json()["status"] == "queued"
    again = (await claim(http, "w2", ["echo"]))["job"]
    assert again["id"] == job_id and again["attempts"] == 1


async def test_idempotency_key_returns_the_existing_job(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    body = {"kind": "echo", "payload": {"n": 1}}
    first = await http.post("/v1/jobs", json=body, headers={"Idempotency-Key": "order-17"})
    second = await http.post("/v1/jobs", json=body, headers={"Idempotency-Key": "order-17"})
    third = await http.post("/v1/jobs", json={**body, "idempotency_key": "order-17"})
    assert (first.status_code, second.status_code, third.status_code) == (201, 200, 200)
    assert first.json()["job_id"] == second.json()["job_id"] == third.json()["job_id"]
    assert second.json()["created"] is False
    clash = await http.post(
        "/v1/jobs",
        json={"kind": "echo", "payload": {"n": 2}},
        headers={"Idempotency-Key": "order-17"},
    )
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "idempotency_conflict"
    assert await sql_count(db, "SELECT count(*) FROM jobs") == 1


async def test_concurrent_submissions_with_one_key_make_one_job(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    answers = await asyncio.gather(
        *[
            http.post("/v1/jobs", json={"kind": "echo"}, headers={"Idempotency-Key": "k"})
            for _ in range(10)
        ]
    )
    assert len({a.json()["job_id"] for a in answers}) == 1
    assert sorted(a.status_code for a in answers) == [200] * 9 + [201]
    assert await sql_count(db, "SELECT count(*) FROM jobs") == 1


async def test_cancel_queued_now_and_running_at_next_heartbeat(http: httpx.AsyncClient) -> None:
    queued = await submit(http)
    running = await submit(http, priority=-1)
    canceled = await http.post(f"/v1/jobs/{queued}/cancel")
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    job = (await claim(http, "w", ["echo"]))["job"]
    assert job["id"] == running  # the canceled one is never claimed

    requested = (await http.post(f"/v1/jobs/{running}/cancel")).json()
    assert requested["status"] == "running" and requested["cancel_requested"] is True
    beat = await http.post(
        "/v1/workers/heartbeat",
        json={"worker_id": "w", "job_id": running, "lease_token": job["lease_token"]},
    )
    assert beat.json()["canceled"] is True
    assert (await http.get(f"/v1/jobs/{running}")).json()["status"] == "canceled"
    late = await http.post(
        "/v1/workers/complete",
        json={"worker_id": "w", "job_id": running, "lease_token": job["lease_token"]},
    )
    assert late.status_code == 409
    done_job = await submit(http)
    claimed = (await claim(http, "w", ["echo"]))["job"]
    await http.post(
        "/v1/workers/complete",
        json={"worker_id": "w", "job_id": done_job, "lease_token": claimed["lease_token"]},
    )
    refused = await http.post(f"/v1/jobs/{done_job}/cancel")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "job_finished"


async def test_long_poll_claim_wakes_on_submit_on_another_replica(
    core: RunningCore, database_url: str
) -> None:
    async with (
        start_core(database_url) as other,
        httpx.AsyncClient(base_url=core.http_url, timeout=30) as a,
        httpx.AsyncClient(base_url=other.http_url, timeout=30) as b,
    ):
        waiting = asyncio.create_task(claim(a, "w", ["echo"], wait_seconds=20))
        # The claim found no work and sleeps on replica A: only a wake-up can answer it now.
        await eventually(lambda: core.runtime.hub.claimers.asleep == 1)
        assert not waiting.done()
        job_id = await submit(b)
        answer = await asyncio.wait_for(waiting, 5)
        assert answer["job"]["id"] == job_id


async def test_long_poll_claim_gives_up_after_its_wait(http: httpx.AsyncClient) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    answer = await claim(http, "w", ["echo"], wait_seconds=0.5)
    assert answer["job"] is None and loop.time() - started >= 0.45


async def test_retention_deletes_old_finished_jobs_with_their_history(
    core: RunningCore, http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    old = await submit(http)
    await http.post(f"/v1/jobs/{old}/cancel")
    fresh = await submit(http)
    await http.post(f"/v1/jobs/{fresh}/cancel")
    queued = await submit(http)
    await db.execute("UPDATE jobs SET finished_at = now() - interval '30 days' WHERE id = $1", old)
    assert await core.runtime.retention.run_once() == 1
    remaining = {str(r["id"]) for r in await db.fetch("SELECT id FROM jobs")}
    assert remaining == {fresh, queued}
    assert await sql_count(db, "SELECT count(*) FROM job_events WHERE job_id = $1", old) == 0


async def test_listing_filters_and_pages(http: httpx.AsyncClient) -> None:
    ids = [await submit(http, source="a") for _ in range(5)]
    await submit(http, kind="other", source="b")
    page = (await http.get("/v1/jobs", params={"source": "a", "limit": 3})).json()
    assert [j["id"] for j in page["jobs"]] == ids[::-1][:3]
    rest = (
        await http.get("/v1/jobs", params={"source": "a", "cursor": page["next_cursor"]})
    ).json()
    assert [j["id"] for j in rest["jobs"]] == ids[::-1][3:] and rest["next_cursor"] is None
    others = (await http.get("/v1/jobs", params={"kind": "other"})).json()["jobs"]
    assert [j["source"] for j in others] == ["b"]


async def test_progress_only_from_the_worker_holding_the_lease(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    job_id = await submit(http)
    job = (await claim(http, "owner", ["echo"]))["job"]
    body = {"job_id": job_id, "data": {"chunk": "hi"}}
    mine = await http.post(
        "/v1/workers/progress",
        json={**body, "worker_id": "owner", "lease_token": job["lease_token"]},
    )
    assert mine.status_code == 200 and mine.json()["event_id"] > 0
    for intruder in ({"worker_id": "other"}, {"worker_id": "other", "lease_token": None}):
        refused = await http.post("/v1/workers/progress", json={**body, **intruder})
        assert refused.status_code == 409, intruder
    progress = "SELECT count(*) FROM job_events WHERE job_id = $1 AND type = 'progress'"
    assert await sql_count(db, progress, job_id) == 1
    assert mine.json()["canceled"] is False


async def test_progress_tells_the_worker_its_job_was_canceled(
    http: httpx.AsyncClient, grpc_client: CoreClient
) -> None:
    job_id = await submit(http)
    job = (await claim(http, "owner", ["echo"]))["job"]
    assert (await http.post(f"/v1/jobs/{job_id}/cancel")).status_code == 200
    answer = await http.post(
        "/v1/workers/progress",
        json={
            "job_id": job_id,
            "worker_id": "owner",
            "lease_token": job["lease_token"],
            "data": {"chunk": "hi"},
        },
    )
    assert answer.status_code == 200 and answer.json()["canceled"] is True
    over_grpc = await grpc_client.report_progress(
        worker_id="owner", job_id=job_id, lease_token=job["lease_token"], data={"chunk": "x"}
    )
    assert over_grpc.canceled and over_grpc.event_id > answer.json()["event_id"]


async def test_progress_of_several_jobs_in_one_call_is_written_per_lease(
    http: httpx.AsyncClient, grpc_client: CoreClient, db: asyncpg.Connection
) -> None:
    ids = [await submit(http) for _ in range(4)]
    jobs = {j["id"]: j for j in (await claim(http, "owner", ["echo"], max_jobs=3))["jobs"]}
    mine, canceled, stale = [i for i in ids if i in jobs]
    queued = next(i for i in ids if i not in jobs)
    assert (await http.post(f"/v1/jobs/{canceled}/cancel")).status_code == 200

    def report(job_id: str, text: str, token: str | None = None) -> pb.ReportProgressRequest:
        lease = token if token is not None else jobs.get(job_id, {}).get("lease_token", "")
        data = json.dumps({"type": "token", "delta": text})
        return pb.ReportProgressRequest(
            worker_id="owner", job_id=job_id, lease_token=lease, data_json=data
        )

    malformed = pb.ReportProgressRequest(
        worker_id="owner", job_id=str(uuid.uuid4()), data_json="[1]"
    )
    answers = await grpc_client.report_progress_many(
        [
            report(mine, "a"),
            report(stale, "b", token=str(uuid.uuid4())),
            report(canceled, "c"),
            report(queued, "d"),
            malformed,
        ]
    )
    assert [a.ok for a in answers] == [True, False, True, False, False]
    assert "another lease" in answers[1].error and "queued" in answers[3].error
    assert "must be a JSON object" in answers[4].error  # refused alone, not the whole call
    # The one whose cancellation was asked for learns it, to stop now.
    assert [a.canceled for a in answers] == [False, False, True, False, False]
    assert 0 < answers[0].event_id < answers[2].event_id
    written = await db.fetch(
        "SELECT job_id::text, data FROM job_events WHERE type = 'progress' ORDER BY id"
    )
    texts = [(r["job_id"], json.loads(r["data"])["delta"]) for r in written]
    assert texts == [(mine, "a"), (canceled, "c")]

    with pytest.raises(InvalidInput):  # one job twice: its reports would race
        await grpc_client.report_progress_many([report(mine, "x"), report(mine, "y")])
    with pytest.raises(InvalidInput):  # as every batch call: 1 to 500 items
        await grpc_client.report_progress_many([])
    progress = "SELECT count(*) FROM job_events WHERE job_id = $1 AND type = 'progress'"
    assert await sql_count(db, progress, mine) == 1


async def test_a_completion_carries_the_end_of_its_stream_only_when_it_is_accepted(
    http: httpx.AsyncClient, grpc_client: CoreClient, db: asyncpg.Connection
) -> None:
    first, second = await submit(http), await submit(http)
    jobs = {j["id"]: j for j in (await claim(http, "owner", ["echo"], max_jobs=2))["jobs"]}
    end = {"type": "token", "delta": " world"}
    done = await http.post(
        "/v1/workers/complete",
        json={
            "job_id": first,
            "worker_id": "owner",
            "lease_token": jobs[first]["lease_token"],
            "result": {"response": "hello world"},
            "progress": end,
        },
    )
    assert done.status_code == 200, done.text
    events = [e async for e in grpc_client.stream_job(first)]
    assert [e.type for e in events] == ["queued", "running", "progress", "done"]
    assert json.loads(events[2].data_json) == end

    # Refused with its completion (a stale lease): no event is written.
    with pytest.raises(LeaseLost):
        await grpc_client.complete(
            worker_id="owner",
            job_id=second,
            lease_token=str(uuid.uuid4()),
            result={},
            progress=end,
        )
    progress = "SELECT count(*) FROM job_events WHERE job_id = $1 AND type = 'progress'"
    assert await sql_count(db, progress, second) == 0
    refused = await http.post(
        "/v1/workers/complete",
        json={"job_id": second, "worker_id": "owner", "result": {}, "progress": "text"},
    )
    assert refused.status_code == 422
