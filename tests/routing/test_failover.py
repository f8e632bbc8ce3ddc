"""Failover: a failed device's job moves to another device or to the cloud; circuit breakers
open after N failures, probe once after the cool-down, close on success, and every core
replica sees the same state (it lives in Postgres)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from core.runtime import RunningCore
from testkit.compat import MODEL
from testkit.fakes.ollama import FakeOllama
from testkit.fakes.openai import FakeOpenAI
from testkit.fakes.server import CannedError, serving
from testkit.fleet import add_device, set_stats
from testkit.support import eventually, provider_worker, start_core

A, B = "gpu-a.ts.net.", "gpu-b.ts.net."


def server_error() -> CannedError:
    return CannedError(500, {"error": "llama runner process has terminated"})


@contextlib.asynccontextmanager
async def core_at(database_url: str, **overrides: Any) -> AsyncIterator[RunningCore]:
    values: dict[str, Any] = {"retry_base_seconds": 0.05, "retry_cap_seconds": 0.2}
    values.update(overrides)
    async with start_core(database_url, device_max_concurrency=8, **values) as core:
        yield core


SLOW_RETRY = {"retry_base_seconds": 10.0, "retry_cap_seconds": 10.0}


async def finished(http: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        job = (await http.get(f"/v1/jobs/{job_id}")).json()
        return job if job["status"] in ("done", "error", "canceled") else None

    return await eventually(check, within=20)


async def failovers(db: asyncpg.Connection, job_id: str) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT data::text AS d FROM job_events WHERE job_id = $1 AND data ? 'failover' "
        "ORDER BY id",
        job_id,
    )
    import json

    return [json.loads(r["d"]) for r in rows]


@pytest.mark.slow
async def test_failed_device_job_retries_on_another_device(
    database_url: str, db: asyncpg.Connection
) -> None:
    fast, slow = FakeOllama("127.0.0.2"), FakeOllama("127.0.0.4")
    fast.errors.append(server_error())
    # The failover, not the retry timer, must be what makes the job claimable again: with a
    # 50 ms retry a fast claim could take it back to the failed device first.
    async with (
        core_at(database_url, **SLOW_RETRY) as core,
        serving(fast),
        serving(slow),
        provider_worker(core.grpc_addr, worker_concurrency=40),
    ):
        await add_device(db, A, fast.url)
        await add_device(db, B, slow.url)
        await set_stats(db, A, MODEL, tps=90, latency_ms=100)
        await set_stats(db, B, MODEL, tps=20, latency_ms=100)
        async with httpx.AsyncClient(base_url=core.http_url, timeout=30) as http:
            routed = await http.post(
                "/v1/llm/request", json={"provider": "ollama", "model": MODEL, "prompt": "hi"}
            )
            assert routed.json()["device_id"] == A
            job = await finished(http, routed.json()["job_id"])
            devices = {d["id"]: d for d in (await http.get("/v1/devices")).json()["devices"]}
    assert job["status"] == "done" and job["device_id"] == B
    moves = await failovers(db, job["id"])
    assert moves[0]["failover"] == "device" and moves[0]["from_device"] == A
    assert "llama runner" in moves[0]["reason"]
    assert devices[A]["breaker"]["failures"] == 1 and devices[A]["breaker"]["state"] == "closed"
    assert devices[B]["breaker"]["state"] == "closed"


@pytest.mark.slow
async def test_failed_device_job_falls_back_to_the_cloud_when_allowed(
    database_url: str, db: asyncpg.Connection
) -> None:
    local = FakeOllama("127.0.0.2")
    local.errors.append(server_error())
    cloud = FakeOpenAI("127.0.0.3")
    async with (
        core_at(database_url, **SLOW_RETRY) as core,
        serving(local),
        serving(cloud),
        provider_worker(
            core.grpc_addr,
            worker_concurrency=40,
            openai_api_key="sk-test",
            openai_base_url=cloud.base_url,
        ),
    ):
        await add_device(db, A, local.url)
        async with httpx.AsyncClient(base_url=core.http_url, timeout=30) as http:
            body = {
                "model": MODEL,
                "prompt": "hello",
                "constraints": {"prefer_local": True, "fallback": True},
            }
            routed = (await http.post("/v1/llm/request", json=body)).json()
            assert routed["provider"] == "ollama"
            assert any("fallback: openai" in r for r in routed["reason"])
            job = await finished(http, routed["job_id"])
    assert job["status"] == "done" and job["provider"] == "openai"
    assert job["result"]["response"] == "re: hello"
    moves = await failovers(db, job["id"])
    assert moves[0]["failover"] == "cloud" and moves[0]["provider"] == "openai"


@pytest.mark.slow
async def test_breaker_opens_probes_once_and_closes_on_every_replica(
    database_url: str, db: asyncpg.Connection
) -> None:
    fake = FakeOllama("127.0.0.2")
    fake.errors.extend([server_error(), server_error()])
    settings = {"breaker_failures": 2, "breaker_cooldown_seconds": 1.5}
    async with (
        core_at(database_url, **settings) as one,
        core_at(database_url, **settings) as two,
        serving(fake),
        provider_worker(one.grpc_addr, worker_concurrency=40),
        httpx.AsyncClient(base_url=one.http_url, timeout=30) as http1,
        httpx.AsyncClient(base_url=two.http_url, timeout=30) as http2,
    ):
        await add_device(db, A, fake.url)

        async def breaker(http: httpx.AsyncClient) -> dict[str, Any]:
            return (await http.get("/v1/devices")).json()["devices"][0]["breaker"]

        first = await http1.post(
            "/v1/llm/request", json={"provider": "ollama", "model": MODEL, "prompt": "x"}
        )
        # Two failures in a row: open, on both replicas.
        await eventually(lambda: _state_is(breaker(http2), "open"), within=10)
        assert (await breaker(http1))["failures"] == 2
        refused = await http2.post(
            "/v1/llm/request", json={"provider": "ollama", "model": MODEL, "prompt": "y"}
        )
        assert refused.status_code == 503 and "circuit" in refused.json()["error"]["message"]

        # Cool-down over: half-open, one probe at a time (the device holds it).
        fake.gate = asyncio.Event()
        for _ in range(2):
            pinned = {"kind": "ollama.generate", "device_id": A, "payload": {"model": MODEL}}
            assert (await http2.post("/v1/jobs", json=pinned)).status_code == 201
        await eventually(lambda: fake.in_flight == 1, within=10)
        assert (await breaker(http2))["state"] == "half_open"
        await asyncio.sleep(0.6)  # claims re-check busy devices every 0.25 s: none may start
        assert fake.in_flight == 1
        assert await db.fetchval("SELECT count(*) FROM jobs WHERE status = 'running'") == 1

        fake.gate.set()
        await eventually(
            lambda: _all_done(db),
            within=15,
        )
        assert (await breaker(http1))["state"] == "closed"
        assert (await breaker(http2)) == {
            "state": "closed",
            "failures": 0,
            "open_until": None,
            "last_error": None,
        }
        job = (await http1.get(f"/v1/jobs/{first.json()['job_id']}")).json()
        assert job["status"] == "done" and job["attempts"] == 3


async def _state_is(view: Any, state: str) -> bool:
    return (await view)["state"] == state


async def _all_done(db: asyncpg.Connection) -> bool:
    return await db.fetchval("SELECT bool_and(status = 'done') FROM jobs") is True


@pytest.mark.slow
async def test_cloud_provider_breaker_opens_and_auto_routing_goes_local(
    database_url: str, db: asyncpg.Connection
) -> None:
    local, cloud = FakeOllama("127.0.0.2"), FakeOpenAI("127.0.0.3")
    cloud.errors.extend([server_error(), server_error()])
    async with (
        core_at(database_url, breaker_failures=2, breaker_cooldown_seconds=60) as core,
        serving(local),
        serving(cloud),
        provider_worker(
            core.grpc_addr,
            worker_concurrency=40,
            openai_api_key="sk-test",
            openai_base_url=cloud.base_url,
        ),
        httpx.AsyncClient(base_url=core.http_url, timeout=30) as http,
    ):
        await add_device(db, A, local.url)
        first = (await http.post("/v1/llm/request", json={"prompt": "x"})).json()
        assert first["provider"] == "openai"

        async def opened() -> bool:
            providers = (await http.get("/v1/devices")).json()["providers"]
            return providers.get("openai", {}).get("state") == "open"

        await eventually(opened, within=10)
        second = (await http.post("/v1/llm/request", json={"prompt": "y"})).json()
        assert second["provider"] == "ollama"
        assert any("openai: circuit open" in r for r in second["reason"])
        assert (await finished(http, second["job_id"]))["status"] == "done"
