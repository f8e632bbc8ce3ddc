"""Job streams over SSE and gRPC: order, late clients, resume, other replicas, lost LISTEN."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx

from core.runtime import RunningCore
from proto.client import CoreClient
from testkit.sse import read_sse
from testkit.support import eventually, running_worker, start_core


async def collect(client: httpx.AsyncClient, job_id: str, **headers: str) -> list[dict[str, Any]]:
    async with client.stream("GET", f"/v1/jobs/{job_id}/stream", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return [frame async for frame in read_sse(response)]


async def claim_and_complete(http: httpx.AsyncClient, result: Any) -> str:
    job = (await http.post("/v1/workers/claim", json={"worker_id": "w", "kinds": ["echo"]})).json()[
        "job"
    ]
    done = await http.post(
        "/v1/workers/complete",
        json={
            "worker_id": "w",
            "job_id": job["id"],
            "lease_token": job["lease_token"],
            "result": result,
        },
    )
    assert done.status_code == 200
    return job["id"]


def types(frames: list[dict[str, Any]]) -> list[str]:
    return [f["event"] for f in frames]


async def test_live_client_sees_queued_running_done_in_order(
    core: RunningCore, http: httpx.AsyncClient
) -> None:
    job_id = (await http.post("/v1/jobs", json={"kind": "echo", "payload": {"x": 1}})).json()[
        "job_id"
    ]
    stream = asyncio.create_task(collect(http, job_id))
    await eventually(lambda: core.runtime.hub.subscriber_count == 1)
    async with running_worker(core.grpc_addr):
        frames = await asyncio.wait_for(stream, 10)
    assert types(frames) == ["job", "queued", "running", "done"]
    assert frames[0]["data"]["status"] == "queued"
    ids = [int(f["id"]) for f in frames[1:]]
    assert ids == sorted(ids)
    assert frames[-1]["data"]["job"]["result"] == {"x": 1}


async def test_late_client_gets_the_whole_history_and_the_final_state(
    http: httpx.AsyncClient,
) -> None:
    job_id = (await http.post("/v1/jobs", json={"kind": "echo"})).json()["job_id"]
    await claim_and_complete(http, {"late": True})
    frames = await asyncio.wait_for(collect(http, job_id), 10)
    assert types(frames) == ["job", "queued", "running", "done"]
    assert frames[0]["data"]["status"] == "done"
    assert frames[-1]["data"]["job"]["result"] == {"late": True}


async def test_resume_with_last_event_id_skips_what_was_seen(http: httpx.AsyncClient) -> None:
    job_id = (await http.post("/v1/jobs", json={"kind": "echo"})).json()["job_id"]
    await claim_and_complete(http, 1)
    first = await collect(http, job_id)
    queued_id = first[1]["id"]
    resumed = await collect(http, job_id, **{"Last-Event-ID": queued_id})
    assert types(resumed) == ["job", "running", "done"]


async def test_transition_on_another_replica_reaches_the_stream(
    core: RunningCore, database_url: str, http: httpx.AsyncClient
) -> None:
    async with (
        start_core(database_url) as other,
        httpx.AsyncClient(base_url=other.http_url, timeout=30) as http_b,
    ):
        job_id = (await http.post("/v1/jobs", json={"kind": "echo"})).json()["job_id"]
        stream = asyncio.create_task(collect(http, job_id))
        await eventually(lambda: core.runtime.hub.subscriber_count == 1)
        await claim_and_complete(http_b, {"via": "replica b"})
        frames = await asyncio.wait_for(stream, 10)
    assert types(frames) == ["job", "queued", "running", "done"]
    assert frames[-1]["data"]["job"]["result"] == {"via": "replica b"}


async def test_stream_survives_a_dropped_listen_connection(
    core: RunningCore, database_url: str, http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    job_id = (await http.post("/v1/jobs", json={"kind": "echo"})).json()["job_id"]
    stream = asyncio.create_task(collect(http, job_id))
    await eventually(lambda: core.runtime.hub.subscriber_count == 1)
    hub = core.runtime.hub
    # Kill every LISTEN backend, then finish the job before the hub can reconnect.
    killed = await db.fetchval(
        """SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
            WHERE datname = current_database() AND query LIKE 'LISTEN%'"""
    )
    assert killed >= 1
    async with start_core(database_url) as other, httpx.AsyncClient(base_url=other.http_url) as b:
        await claim_and_complete(b, {"after": "reconnect"})
    frames = await asyncio.wait_for(stream, 15)
    assert types(frames)[-1] == "done"
    assert frames[-1]["data"]["job"]["result"] == {"after": "reconnect"}
    await eventually(lambda: hub.reconnects >= 1 and hub.connected.is_set())


async def test_unknown_job_stream_is_404(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/jobs/00000000-0000-0000-0000-000000000000/stream")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "job_not_found"


async def test_grpc_stream_job_ends_after_the_terminal_event(
    core: RunningCore, http: httpx.AsyncClient, grpc_client: CoreClient
) -> None:
    job_id = (await http.post("/v1/jobs", json={"kind": "echo"})).json()["job_id"]
    events: list[Any] = []

    async def follow() -> None:
        async for event in grpc_client.stream_job(job_id):
            events.append(event)

    task = asyncio.create_task(follow())
    await eventually(lambda: core.runtime.hub.subscriber_count == 1)
    await claim_and_complete(http, {"grpc": True})
    await asyncio.wait_for(task, 10)
    assert [e.type for e in events] == ["queued", "running", "done"]
    assert events[-1].job.status == "done" and events[-1].job.result_json == '{"grpc":true}'


async def test_a_job_ends_after_its_earlier_events_when_another_statement_spans_its_end(
    core: RunningCore, database_url: str, http: httpx.AsyncClient
) -> None:
    """Event ids come from one sequence, so a statement's ids can have another's inside
    them. Here a statement's range (job B's events) holds job A's last event but not its
    first, and commits before A's writer: A's stream must still get A's first event before
    its end, not the end alone."""
    job_a = (await http.post("/v1/jobs", json={"kind": "echo"})).json()["job_id"]
    job_b = (await http.post("/v1/jobs", json={"kind": "echo"})).json()["job_id"]
    stream = asyncio.create_task(collect(http, job_a))
    await eventually(lambda: core.runtime.hub.subscriber_count == 1)
    insert = "INSERT INTO job_events (job_id, type, data) VALUES ($1::uuid, $2, $3::jsonb)"
    gate, writer_a, writer_b = [await asyncpg.connect(database_url) for _ in range(3)]

    async def waiting(pid: int, lock_type: str) -> bool:
        return bool(
            await gate.fetchval(
                "SELECT count(*) FROM pg_locks WHERE pid = $1 AND NOT granted AND locktype = $2",
                pid,
                lock_type,
            )
        )

    try:
        await gate.execute("SELECT pg_advisory_lock(7)")
        a_writes = writer_a.transaction()
        await a_writes.start()
        await writer_a.execute(insert, job_a, "progress", '{"type": "token", "delta": "first"}')
        # B's one statement: its first event, then it waits for the gate before its second.
        b_statement = asyncio.create_task(
            writer_b.execute(
                """INSERT INTO job_events (job_id, type, data)
                   SELECT $1::uuid, 'progress', jsonb_build_object('n', n)
                     FROM generate_series(1, 2) n
                    WHERE n = 1 OR (SELECT true FROM pg_advisory_lock(7))""",
                job_b,
            )
        )
        await eventually(lambda: waiting(writer_b.get_server_pid(), "advisory"))
        await writer_a.execute(insert, job_a, "done", '{"status": "done"}')  # inside B's range
        # A's writer holds its commit until B's has committed (and sent its NOTIFY), and
        # whoever reads the events meanwhile waits for A's commit.
        lock = asyncio.create_task(writer_a.execute("LOCK TABLE job_events"))
        await eventually(lambda: waiting(writer_a.get_server_pid(), "relation"))
        await gate.execute("SELECT pg_advisory_unlock(7)")
        await b_statement
        await lock
        await a_writes.commit()
        frames = await asyncio.wait_for(stream, 10)
    finally:
        for conn in (gate, writer_a, writer_b):
            await conn.close()
    assert types(frames) == ["job", "queued", "progress", "done"]
    assert frames[2]["data"]["data"] == {"type": "token", "delta": "first"}
