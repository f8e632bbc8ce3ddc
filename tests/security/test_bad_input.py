"""Bad input gets the right 4xx with a message, in our error format, and writes nothing."""

from __future__ import annotations

import asyncpg
import grpc
import httpx
import pytest

from core.runtime import RunningCore
from proto import llm_pb2 as pb
from proto import llm_pb2_grpc as pb_grpc
from proto.client import CoreClient, InvalidRequest, NotFound
from testkit.support import sql_count

BAD_SUBMITS = [
    (b'{"kind": "echo", "payload": ', 400, "malformed_json"),
    (b'{"kind": "echo", "payload": [1, 2]}', 422, "validation_failed"),
    (b'{"kind": "echo", "priority": "high"}', 422, "validation_failed"),
    (b'{"kind": "echo", "priority": 100000}', 422, "validation_failed"),
    (b'{"kind": "echo", "max_attempts": 0}', 422, "validation_failed"),
    (b'{"kind": "no spaces allowed"}', 422, "validation_failed"),
    (b'{"payload": {}}', 422, "validation_failed"),
    (b'{"kind": "echo", "unknown_field": 1}', 422, "validation_failed"),
    (b'{"kind": "echo", "deadline_at": "tomorrow"}', 422, "validation_failed"),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD_SUBMITS)
async def test_bad_submissions_are_refused_and_write_nothing(
    http: httpx.AsyncClient, db: asyncpg.Connection, body: bytes, status: int, code: str
) -> None:
    response = await http.post(
        "/v1/jobs", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert await sql_count(db, "SELECT count(*) FROM jobs") == 0


async def test_oversized_bodies_and_payloads_are_refused(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    huge = {"kind": "echo", "payload": {"blob": "x" * (2 * 1024 * 1024)}}
    response = await http.post("/v1/jobs", json=huge)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    big_payload = {"kind": "echo", "payload": {"blob": "x" * (300 * 1024)}}
    response = await http.post("/v1/jobs", json=big_payload)
    assert response.status_code == 422 and "at most" in response.json()["error"]["message"]
    assert await sql_count(db, "SELECT count(*) FROM jobs") == 0


async def test_unknown_and_malformed_job_ids_are_404(http: httpx.AsyncClient) -> None:
    for job_id in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        for method, path in [("GET", f"/v1/jobs/{job_id}"), ("POST", f"/v1/jobs/{job_id}/cancel")]:
            response = await http.request(method, path)
            assert response.status_code == 404, (method, path)
            assert response.json()["error"]["code"] == "job_not_found"


async def test_worker_endpoints_bound_their_numbers(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    for body in [
        {"worker_id": "w", "kinds": ["echo"], "lease_seconds": 0},
        {"worker_id": "w", "kinds": ["echo"], "lease_seconds": 100000},
        {"worker_id": "w", "kinds": []},
        {"worker_id": "w", "kinds": ["echo"], "max_jobs": 10000},
        {"worker_id": "w", "kinds": ["echo"], "wait_seconds": 3600},
        {"worker_id": "", "kinds": ["echo"]},
    ]:
        response = await http.post("/v1/workers/claim", json=body)
        assert response.status_code == 422, body
    unknown = await http.post(
        "/v1/workers/complete",
        json={"worker_id": "w", "job_id": "00000000-0000-0000-0000-000000000000"},
    )
    assert unknown.status_code == 404
    bad_token = await http.post(
        "/v1/workers/heartbeat",
        json={
            "worker_id": "w",
            "job_id": "00000000-0000-0000-0000-000000000000",
            "lease_token": "nope",
        },
    )
    assert bad_token.status_code in (404, 422)
    assert await sql_count(db, "SELECT count(*) FROM workers") == 0


async def test_list_limits_are_bounded(http: httpx.AsyncClient) -> None:
    assert (await http.get("/v1/jobs", params={"limit": 0})).status_code == 422
    assert (await http.get("/v1/jobs", params={"limit": 501})).status_code == 422
    assert (await http.get("/v1/jobs", params={"status": "weird"})).status_code == 422
    assert (await http.get("/v1/jobs", params={"cursor": "garbage"})).status_code == 422


async def test_grpc_refuses_invalid_json_and_unknown_ids(
    grpc_client: CoreClient, db: asyncpg.Connection
) -> None:
    stub_call = grpc_client._stub.SubmitJob  # the raw RPC, to send what our client never would
    for payload_json in ('{"a": ', "[1]", '"text"'):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub_call(pb.SubmitJobRequest(kind="echo", payload_json=payload_json))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "payload_json" in caught.value.details()
    with pytest.raises(InvalidRequest):
        await grpc_client.submit_job("echo", {"x": 1}, priority=10**6)
    with pytest.raises(NotFound):
        await grpc_client.get_job("00000000-0000-0000-0000-000000000000")
    with pytest.raises(InvalidRequest):
        await grpc_client.claim(worker_id="w", kinds=["echo"], lease_seconds=100_000)
    assert await sql_count(db, "SELECT count(*) FROM jobs") == 0


async def test_grpc_health_and_reflection_are_served(core: RunningCore) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    async with grpc.aio.insecure_channel(core.grpc_addr) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        answer = await health.Check(health_pb2.HealthCheckRequest(service="llmmcp.v1.Core"))
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        responses = reflection.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        )
        async for response in responses:
            names = {s.name for s in response.list_services_response.service}
            assert "llmmcp.v1.Core" in names
            break
    assert pb_grpc.CoreStub  # the generated stub module imports cleanly
