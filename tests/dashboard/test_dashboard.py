"""The status snapshot (GET /v1/dashboard and gRPC GetStatus) against a real core and Postgres."""

from __future__ import annotations

import asyncpg
import httpx

from core.runtime import RunningCore
from proto.client import CoreClient
from testkit.support import start_core


async def _seed_fleet(db: asyncpg.Connection) -> None:
    await db.execute(
        """INSERT INTO devices (id, name, online, last_seen_at, offline_reason, offline_at)
           VALUES ('gpu-box.ts.net.', 'gpu-box', true, now(), NULL, NULL),
                  ('old-laptop.ts.net.', 'old <laptop>', false, now() - interval '1 hour',
                   'connection refused', now() - interval '10 minutes')"""
    )
    await db.execute(
        """INSERT INTO benchmarks (device_id, provider, model, task_type, tps, latency_ms,
                                   created_at)
           VALUES ('gpu-box.ts.net.', 'ollama', 'llama3.2:3b', 'generate', 20, 300,
                   now() - interval '1 hour'),
                  ('gpu-box.ts.net.', 'ollama', 'llama3.2:3b', 'generate', 42.5, 120, now()),
                  ('gpu-box.ts.net.', 'ollama', 'nomic-embed', 'embed', 900, 15, now())"""
    )


async def test_dashboard_shows_queue_running_devices_benchmarks_workers(
    db: asyncpg.Connection, core: RunningCore, http: httpx.AsyncClient, grpc_client: CoreClient
) -> None:
    await _seed_fleet(db)
    for i in range(3):
        await grpc_client.submit_job("echo", {"i": i})
    await grpc_client.submit_job("ollama.generate", {"prompt": "hi"})
    registered = await http.post(
        "/v1/workers/register", json={"worker": {"id": "w-1", "kinds": ["echo"]}}
    )
    assert registered.status_code == 200, registered.text
    claimed = await grpc_client.claim(worker_id="w-1", kinds=["echo"], lease_seconds=60)
    await db.execute(
        "UPDATE jobs SET device_id = 'gpu-box.ts.net.' WHERE id = $1::uuid", claimed[0].id
    )
    second = await grpc_client.claim(worker_id="w-1", kinds=["echo"], lease_seconds=60)
    await grpc_client.complete(
        worker_id="w-1", job_id=second[0].id, lease_token=second[0].lease_token, result={}
    )

    response = await http.get("/v1/dashboard")
    assert response.status_code == 200, response.text
    snap = response.json()
    assert snap["jobs"] == {"queued": 2, "running": 1, "done": 1, "error": 0, "canceled": 0}
    assert snap["throughput"]["finished"] == 1 and snap["throughput"]["done"] == 1
    assert snap["oldest_queued_seconds"] >= 0
    [running] = snap["running"]
    assert running["id"] == claimed[0].id and running["kind"] == "echo"
    assert running["device_id"] == "gpu-box.ts.net." and running["worker_id"] == "w-1"
    assert running["running_seconds"] >= 0
    devices = {d["id"]: d for d in snap["devices"]}
    assert devices["gpu-box.ts.net."]["online"] is True
    assert (devices["gpu-box.ts.net."]["running"], devices["gpu-box.ts.net."]["limit"]) == (1, 1)
    assert devices["old-laptop.ts.net."]["online"] is False
    assert devices["old-laptop.ts.net."]["offline_reason"] == "connection refused"
    latest = {(b["device_id"], b["model"]): b for b in snap["benchmarks"]}
    assert len(latest) == 2
    assert latest[("gpu-box.ts.net.", "llama3.2:3b")]["tps"] == 42.5
    assert [w["id"] for w in snap["workers"]] == ["w-1"]
    assert snap["workers"][0]["running"] == 1
    assert snap["recent_outcomes"]["echo"]["statuses"] == ["done"]

    # The gRPC answer is the same JSON.
    over_grpc = await grpc_client.get_status()
    assert over_grpc["jobs"] == snap["jobs"]
    assert over_grpc["devices"] == snap["devices"]


async def test_dashboard_limit_and_worker_liveness_follow_settings(
    database_url: str, db: asyncpg.Connection
) -> None:
    await _seed_fleet(db)
    await db.execute(
        """INSERT INTO workers (id, last_seen_at) VALUES ('fresh', now()),
                                                         ('stale', now() - interval '10 minutes')"""
    )
    await db.execute(
        """INSERT INTO jobs (id, kind, status, finished_at)
           VALUES (gen_random_uuid(), 'echo', 'done', now() - interval '2 hours'),
                  (gen_random_uuid(), 'echo', 'done', now() - interval '10 minutes')"""
    )
    async with start_core(database_url, device_max_concurrency=3, worker_live_seconds=60) as core:
        async with CoreClient(core.grpc_addr) as client:
            snap = await client.get_status()
    assert {d["limit"] for d in snap["devices"]} == {3}
    # Finished jobs count over the last hour; older ones are history, not status.
    assert snap["jobs"]["done"] == 1 and snap["finished_window_seconds"] == 3600
    assert snap["throughput"]["done"] == 0
    assert [w["id"] for w in snap["workers"]] == ["fresh"]
    assert snap["jobs"]["queued"] == 0 and snap["oldest_queued_seconds"] is None


async def test_dashboard_needs_the_client_token(database_url: str) -> None:
    async with start_core(database_url, api_token="s3cret") as core:
        async with httpx.AsyncClient(base_url=core.http_url) as client:
            assert (await client.get("/v1/dashboard")).status_code == 401
            ok = await client.get("/v1/dashboard", headers={"authorization": "Bearer s3cret"})
            assert ok.status_code == 200
