"""The HTTP bridge (:3333) against a real core over gRPC, Postgres and a real worker."""

from __future__ import annotations

import httpx

from core.runtime import RunningCore
from testkit.bridge import start_bridge
from testkit.sse import read_frames
from testkit.support import eventually, running_worker, start_core

UNKNOWN_JOB = "00000000-0000-0000-0000-000000000000"


async def test_health_reports_core_reachable(core: RunningCore) -> None:
    async with start_bridge(core.grpc_addr) as bridge, httpx.AsyncClient() as http:
        response = await http.get(f"{bridge.url}/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "core": {"reachable": True, "address": core.grpc_addr},
    }


async def test_submit_runs_on_a_worker_and_reads_like_core(core: RunningCore) -> None:
    async with (
        start_bridge(core.grpc_addr) as bridge,
        running_worker(core.grpc_addr),
        httpx.AsyncClient(base_url=bridge.url) as http,
        httpx.AsyncClient(base_url=core.http_url) as core_http,
    ):
        created = await http.post(
            "/submit",
            json={"kind": "echo", "payload": {"via": "mcp"}, "priority": 2, "max_attempts": 2},
        )
        assert created.status_code == 201, created.text
        job_id = created.json()["job_id"]
        assert created.json()["status"] == "queued"

        async def done() -> dict | None:
            job = (await http.get(f"/jobs/{job_id}")).json()
            return job if job["status"] == "done" else None

        job = await eventually(done)
        assert job["result"] == {"via": "mcp"}
        assert job["priority"] == 2 and job["max_attempts"] == 2
        assert job["source"] == "mcp-bridge"
        # The same JSON as core's own GET /v1/jobs/{id}.
        assert job == (await core_http.get(f"/v1/jobs/{job_id}")).json()


async def test_submit_with_deadline_and_idempotency_key(core: RunningCore) -> None:
    async with start_bridge(core.grpc_addr) as bridge, httpx.AsyncClient() as http:
        body = {"kind": "echo", "deadline_at": "2099-01-01T00:00:00Z", "source": "svc"}
        key = {"Idempotency-Key": "k1"}
        first = await http.post(f"{bridge.url}/submit", json=body, headers=key)
        again = await http.post(f"{bridge.url}/submit", json=body, headers=key)
        assert first.status_code == 201 and again.status_code == 200
        assert again.json()["job_id"] == first.json()["job_id"]
        assert again.json()["created"] is False
        job = (await http.get(f"{bridge.url}/jobs/{first.json()['job_id']}")).json()
        assert job["deadline_at"].startswith("2099-01-01T00:00:00")
        assert job["source"] == "svc"


async def test_stream_has_core_frames(core: RunningCore) -> None:
    async with (
        start_bridge(core.grpc_addr) as bridge,
        httpx.AsyncClient(timeout=30) as http,
    ):
        job_id = (await http.post(f"{bridge.url}/submit", json={"kind": "echo"})).json()["job_id"]
        async with running_worker(core.grpc_addr):
            frames = await read_frames(http, f"{bridge.url}/jobs/{job_id}/stream")
        assert frames[0]["event"] == "job" and frames[0]["data"]["id"] == job_id
        assert [f["event"] for f in frames[1:]] == ["queued", "running", "done"]
        assert all(int(f["id"]) == f["data"]["id"] for f in frames[1:])
        assert frames[-1]["data"]["job"]["status"] == "done"
        assert frames[-1]["data"]["job"]["result"] == {}

        # A finished job streams the same frames from core and from the bridge.
        from_core = await read_frames(http, f"{core.http_url}/v1/jobs/{job_id}/stream")
        from_bridge = await read_frames(http, f"{bridge.url}/jobs/{job_id}/stream")
        assert from_bridge == from_core

        # Last-Event-ID resumes after that event.
        resumed = await read_frames(
            http,
            f"{bridge.url}/jobs/{job_id}/stream",
            headers={"Last-Event-ID": frames[2]["id"]},
        )
        assert [f["event"] for f in resumed] == ["job", "done"]


async def test_core_errors_map_to_http_status(core: RunningCore) -> None:
    async with (
        start_bridge(core.grpc_addr) as bridge,
        httpx.AsyncClient(base_url=bridge.url) as http,
    ):
        missing = await http.get(f"/jobs/{UNKNOWN_JOB}")
        assert missing.status_code == 404
        assert missing.json()["error"] == {
            "code": "job_not_found",
            "message": f"job {UNKNOWN_JOB} not found",
        }
        stream = await http.get(f"/jobs/{UNKNOWN_JOB}/stream")
        assert stream.status_code == 404

        bad_kind = await http.post("/submit", json={"kind": "no spaces allowed"})
        assert bad_kind.status_code == 422
        assert bad_kind.json()["error"]["code"] == "validation_failed"
        assert "kind" in bad_kind.json()["error"]["message"]

        too_high = await http.post("/submit", json={"kind": "echo", "priority": 5000})
        assert too_high.status_code == 422
        assert "priority" in too_high.json()["error"]["message"]

        not_object = await http.post("/submit", json={"kind": "echo", "payload": [1]})
        assert not_object.status_code == 422
        assert not_object.json()["error"]["code"] == "validation_failed"

        huge = await http.post("/submit", json={"kind": "echo", "payload": {"x": "y" * 5_000_000}})
        assert huge.status_code == 413
        big = await http.post("/submit", json={"kind": "echo", "payload": {"x": "y" * 300_000}})
        assert big.status_code == 422  # within the bridge's bound, over core's payload limit
        assert "payload" in big.json()["error"]["message"]

        malformed = await http.post(
            "/submit", content=b"{nope", headers={"content-type": "application/json"}
        )
        assert malformed.status_code == 400
        assert malformed.json()["error"]["code"] == "malformed_json"
    async with httpx.AsyncClient(base_url=core.http_url) as core_http:
        # Nothing was written for the refused requests.
        assert (await core_http.get("/v1/jobs")).json()["jobs"] == []


async def test_core_down_gives_503_and_the_bridge_recovers(database_url: str) -> None:
    first = start_core(database_url)
    core = await first.__aenter__()
    grpc_port = int(core.grpc_addr.rsplit(":", 1)[1])
    try:
        async with (
            start_bridge(core.grpc_addr) as bridge,
            httpx.AsyncClient(base_url=bridge.url, timeout=30) as http,
        ):
            job_id = (await http.post("/submit", json={"kind": "echo"})).json()["job_id"]
            await first.__aexit__(None, None, None)
            first = None

            down = await http.get(f"/jobs/{job_id}")
            assert down.status_code == 503
            assert down.json()["error"]["code"] == "core_unavailable"
            assert core.grpc_addr in down.json()["error"]["message"]
            submit = await http.post("/submit", json={"kind": "echo"})
            assert submit.status_code == 503
            health = await http.get("/health")
            assert health.status_code == 200
            assert health.json()["status"] == "degraded"
            assert health.json()["core"]["reachable"] is False

            async with start_core(database_url, grpc_port=grpc_port):

                async def reachable() -> bool:
                    return (await http.get("/health")).json()["core"]["reachable"]

                await eventually(reachable, within=30, interval=0.2)
                back = await http.get(f"/jobs/{job_id}")
                assert back.status_code == 200 and back.json()["id"] == job_id
    finally:
        if first is not None:
            await first.__aexit__(None, None, None)


async def test_bridge_sends_api_token_to_core(database_url: str) -> None:
    async with start_core(database_url, api_token="core-token") as core:
        async with (
            start_bridge(core.grpc_addr, api_token="core-token") as bridge,
            httpx.AsyncClient(base_url=bridge.url) as http,
        ):
            assert (await http.get("/health")).json()["core"]["reachable"] is True
            assert (await http.post("/submit", json={"kind": "echo"})).status_code == 201
        async with (
            start_bridge(core.grpc_addr) as bridge,
            httpx.AsyncClient(base_url=bridge.url) as http,
        ):
            health = (await http.get("/health")).json()
            assert health["status"] == "degraded"
            refused = await http.post("/submit", json={"kind": "echo"})
            assert refused.status_code == 502
            assert refused.json()["error"]["code"] == "unauthorized"
            assert "API_TOKEN" in refused.json()["error"]["message"]
