"""The worker against a real core: runs jobs, drops lost leases, stops cleanly."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest

from core.runtime import RunningCore
from testkit.support import eventually, running_worker
from worker.handlers.base import JobContext, JobFailed, Outcome
from worker.handlers.echo import echo


async def submit(http: httpx.AsyncClient, kind: str, payload: dict | None = None, **kw) -> str:  # type: ignore[type-arg]
    response = await http.post("/v1/jobs", json={"kind": kind, "payload": payload or {}, **kw})
    assert response.status_code == 201, response.text
    return response.json()["job_id"]


async def job(http: httpx.AsyncClient, job_id: str) -> dict:  # type: ignore[type-arg]
    return (await http.get(f"/v1/jobs/{job_id}")).json()


async def test_worker_runs_echo_jobs_end_to_end(core: RunningCore, http: httpx.AsyncClient) -> None:
    ids = [await submit(http, "echo", {"n": n}) for n in range(20)]
    async with running_worker(core.grpc_addr, worker_concurrency=4) as worker:
        for n, job_id in enumerate(ids):
            final = await eventually(lambda job_id=job_id: _done(http, job_id), within=15)
            assert final["result"] == {"n": n}
            assert final["worker_id"] == worker.worker_id
            assert final["metrics"]["latency_ms"] >= 0
    registered = (await http.get("/health")).status_code
    assert registered == 200


async def _done(http: httpx.AsyncClient, job_id: str) -> dict | None:  # type: ignore[type-arg]
    current = await job(http, job_id)
    return current if current["status"] == "done" else None


async def test_failures_are_reported_retryable_or_not(
    core: RunningCore, http: httpx.AsyncClient
) -> None:
    async def flaky(ctx: JobContext) -> Outcome:
        if ctx.payload.get("permanent"):
            raise JobFailed("provider said 400", retryable=False)
        raise RuntimeError("boom")

    permanent = await submit(http, "flaky", {"permanent": True})
    transient = await submit(http, "flaky", {}, max_attempts=1)
    async with running_worker(core.grpc_addr, handlers={"flaky": flaky}):
        first = await eventually(lambda: _status(http, permanent, "error"))
        second = await eventually(lambda: _status(http, transient, "error"))
    assert first["error"] == "provider said 400" and first["attempts"] == 1
    assert second["error"] == "RuntimeError: boom"


async def _status(http: httpx.AsyncClient, job_id: str, status: str) -> dict | None:  # type: ignore[type-arg]
    current = await job(http, job_id)
    return current if current["status"] == status else None


async def test_worker_drops_a_job_whose_lease_it_lost(
    core: RunningCore, http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    started = asyncio.Event()
    stopped = asyncio.Event()

    async def slow(ctx: JobContext) -> Outcome:
        started.set()
        try:
            await asyncio.sleep(3600)
        finally:
            stopped.set()
        return Outcome(result="never")

    job_id = await submit(http, "slow")
    # One slot, so the worker itself cannot claim the job back while it is busy.
    async with running_worker(
        core.grpc_addr, handlers={"slow": slow}, worker_lease_seconds=3, worker_concurrency=1
    ) as worker:
        await asyncio.wait_for(started.wait(), 10)
        # Its lease expires and another worker takes the job over.
        await db.execute("UPDATE jobs SET lease_until = now() - interval '1 second'")
        await core.runtime.sweeper.run_once()
        taken = (
            await http.post("/v1/workers/claim", json={"worker_id": "other", "kinds": ["slow"]})
        ).json()["job"]
        assert taken["id"] == job_id
        await asyncio.wait_for(stopped.wait(), 10)  # the next heartbeat found the lease gone
        await eventually(lambda: not worker.running)
    current = await job(http, job_id)
    assert current["status"] == "running" and current["worker_id"] == "other"


async def test_canceled_running_job_stops_its_handler(
    core: RunningCore, http: httpx.AsyncClient
) -> None:
    started, stopped = asyncio.Event(), asyncio.Event()

    async def slow(ctx: JobContext) -> Outcome:
        started.set()
        try:
            await asyncio.sleep(3600)
        finally:
            stopped.set()
        return Outcome(result=None)

    job_id = await submit(http, "slow")
    async with running_worker(core.grpc_addr, handlers={"slow": slow}, worker_lease_seconds=3):
        await asyncio.wait_for(started.wait(), 10)
        await http.post(f"/v1/jobs/{job_id}/cancel")
        await asyncio.wait_for(stopped.wait(), 10)
    assert (await job(http, job_id))["status"] == "canceled"


async def test_stopping_worker_hands_back_running_jobs_without_spending_attempts(
    core: RunningCore, http: httpx.AsyncClient
) -> None:
    started = asyncio.Event()

    async def forever(ctx: JobContext) -> Outcome:
        started.set()
        await asyncio.sleep(3600)
        return Outcome(result=None)

    job_id = await submit(http, "forever", max_attempts=1)
    async with running_worker(
        core.grpc_addr, handlers={"forever": forever}, worker_shutdown_grace=0.2
    ):
        await asyncio.wait_for(started.wait(), 10)
    current = await job(http, job_id)
    assert current["status"] == "queued" and current["attempts"] == 0
    # A fresh worker picks it up and finishes it.
    async with running_worker(core.grpc_addr, handlers={"forever": echo}):
        final = await eventually(lambda: _status(http, job_id, "done"))
    assert final["attempts"] == 1


@pytest.mark.slow
async def test_worker_claims_only_its_kinds_and_registers_them(
    core: RunningCore, http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    other = await submit(http, "not-mine")
    mine = await submit(http, "echo", {"ok": 1})
    async with running_worker(core.grpc_addr, worker_kinds=["echo"]) as worker:
        await eventually(lambda: _status(http, mine, "done"))
        kinds = await db.fetchval("SELECT kinds FROM workers WHERE id = $1", worker.worker_id)
    assert kinds == ["echo"]
    assert (await job(http, other))["status"] == "queued"
