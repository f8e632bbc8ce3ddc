"""Device choice and late binding with real workers and fake Ollama devices.

What a device sees is recorded by its fake server: which jobs reached it and how many it was
serving at once (never more than its concurrency limit).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from core.runtime import RunningCore
from testkit.fakes.ollama import FakeOllama
from testkit.fakes.server import serving
from testkit.fleet import add_device, set_limits, set_stats
from testkit.support import eventually, running_worker, start_core
from worker.handlers.ollama import Ollama
from worker.runner import Worker


@contextlib.asynccontextmanager
async def ollama_worker(grpc_addr: str, **overrides: Any) -> AsyncIterator[Worker]:
    ollama = Ollama(base_url="http://127.0.0.1:9", model="llama3.2:1b", embed_model="e")
    try:
        async with running_worker(
            grpc_addr,
            handlers=ollama.handlers(),
            worker_id=f"w-{uuid.uuid4().hex[:6]}",
            **overrides,
        ) as worker:
            yield worker
    finally:
        await ollama.aclose()


async def statuses(http: httpx.AsyncClient, job_ids: list[str]) -> list[dict[str, Any]]:
    return [(await http.get(f"/v1/jobs/{j}")).json() for j in job_ids]


async def all_done(http: httpx.AsyncClient, job_ids: list[str], within: float = 30) -> list[dict]:
    async def check() -> list[dict] | None:
        jobs = await statuses(http, job_ids)
        return jobs if all(j["status"] == "done" for j in jobs) else None

    return await eventually(check, within=within, interval=0.05)


async def test_request_runs_on_the_device_with_best_tps(
    core: RunningCore, http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    async with (
        serving(FakeOllama("127.0.0.2")) as slow,
        serving(FakeOllama("127.0.0.3")) as fast,
        ollama_worker(core.grpc_addr),
    ):
        await add_device(db, "slow.", slow.url)
        await add_device(db, "fast.", fast.url)
        await set_stats(db, "slow.", "llama3.2:1b", tps=12, latency_ms=40)
        await set_stats(db, "fast.", "llama3.2:1b", tps=120, latency_ms=40)
        await eventually(lambda: db.fetchval("SELECT count(*) FROM workers"))
        answer = await http.post(
            "/v1/llm/request", json={"prompt": "hi", "constraints": {"prefer_local": True}}
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["device_id"] == "fast."
        [job] = await all_done(http, [answer.json()["job_id"]])
    assert job["device_id"] == "fast." and job["metrics"]["device_id"] == "fast."
    assert job["payload"]["ollama_addr"] == fast.url
    assert len(fast.requests) == 1 and not slow.requests


async def test_queued_job_binds_to_the_device_that_frees_first(
    core: RunningCore, http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    a = FakeOllama("127.0.0.4", gate=asyncio.Event())
    b = FakeOllama("127.0.0.5", gate=asyncio.Event())
    async with serving(a), serving(b), ollama_worker(core.grpc_addr, worker_concurrency=4):
        await add_device(db, "a.", a.url)
        await add_device(db, "b.", b.url)
        ids = []
        for i in range(3):
            created = await http.post(
                "/v1/jobs", json={"kind": "ollama.generate", "payload": {"prompt": f"p{i}"}}
            )
            assert created.status_code == 201, created.text
            ids.append(created.json()["job_id"])
        # One job per device (DEVICE_MAX_CONCURRENCY=1); the third waits for a free device.
        await eventually(lambda: a.in_flight == 1 and b.in_flight == 1)
        third = (await statuses(http, ids))[2]
        assert third["status"] == "queued" and third["device_id"] is None
        b.gate.set()  # b finishes first: the waiting job goes there while a is still busy
        await all_done(http, ids[1:])
        assert (await statuses(http, ids))[0]["status"] == "running"
        a.gate.set()
        jobs = await all_done(http, ids)
    assert jobs[2]["device_id"] == "b."
    assert len(a.requests) == 1 and len(b.requests) == 2
    assert a.max_in_flight == 1 and b.max_in_flight == 1


@pytest.mark.slow
async def test_device_concurrency_holds_under_many_concurrent_claimers(
    database_url: str, db: asyncpg.Connection
) -> None:
    """8 workers with 3 slots each, over two core replicas, 60 late-bound jobs on three
    devices with limits 1, 2 and 1: no device ever serves more than its limit."""
    fakes = [FakeOllama(f"127.0.0.{i}", delay=0.02) for i in (6, 7, 8)]
    capacity = {"d6.": 1, "d7.": 2, "d8.": 1}
    async with contextlib.AsyncExitStack() as stack:
        for fake in fakes:
            await stack.enter_async_context(serving(fake))
        for fake, device_id in zip(fakes, capacity, strict=True):
            await add_device(db, device_id, fake.url)
        await set_limits(db, "d7.", max_concurrency=2)
        cores = [
            await stack.enter_async_context(start_core(database_url)),
            await stack.enter_async_context(start_core(database_url)),
        ]
        http = await stack.enter_async_context(
            httpx.AsyncClient(base_url=cores[0].http_url, timeout=30)
        )
        for i in range(8):
            await stack.enter_async_context(
                ollama_worker(cores[i % 2].grpc_addr, worker_concurrency=3)
            )
        created = await http.post(
            "/v1/jobs/batch",
            json=[{"kind": "ollama.generate", "payload": {"prompt": f"{i}"}} for i in range(60)],
        )
        assert created.status_code == 201, created.text
        ids = [j["job_id"] for j in created.json()["jobs"]]

        over_limit: list[tuple[str, int]] = []

        async def watch_running() -> None:
            while True:
                rows = await db.fetch(
                    "SELECT device_id, count(*) AS n FROM jobs WHERE status = 'running' "
                    "GROUP BY device_id"
                )
                over_limit.extend(
                    (r["device_id"], r["n"]) for r in rows if r["n"] > capacity[r["device_id"]]
                )
                await asyncio.sleep(0.005)  # sampling interval of the watcher, not a wait

        watcher = asyncio.create_task(watch_running())
        try:
            jobs = await all_done(http, ids, within=60)
        finally:
            watcher.cancel()
    assert over_limit == []
    for fake, (device_id, limit) in zip(fakes, capacity.items(), strict=True):
        assert fake.max_in_flight <= limit, device_id
        assert fake.requests, f"{device_id} got no work"
    assert sum(len(f.requests) for f in fakes) == 60
    assert fakes[1].max_in_flight == 2  # the device allowed two did run two at once
    assert {j["device_id"] for j in jobs} == set(capacity)
