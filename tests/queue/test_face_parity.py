"""The same input gets the same verdict on HTTP and on gRPC: the bounds and defaults live in the
schemas and services both faces call, not in the faces."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import grpc
import httpx
import pytest

from proto import llm_pb2 as pb
from proto.client import CoreClient
from proto.errors import ERROR_CODE_KEY
from testkit.support import sql_count

NO_JOB = str(uuid.UUID(int=0))
ECHO = {"kind": "echo", "payload": {}}


async def grpc_verdict(call: Awaitable[Any]) -> str:
    """The error code a gRPC call ends with ("ok" when it succeeds)."""
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        trailers = exc.trailing_metadata() or ()
        return next(value for key, value in trailers if key == ERROR_CODE_KEY)
    return "ok"


def http_verdict(response: httpx.Response) -> str:
    if response.status_code < 400:
        return "ok"
    return response.json()["error"]["code"]


LIST_QUERIES = [
    ({"limit": 501}, "validation_failed"),
    ({"limit": -1}, "validation_failed"),
    ({"status": "weird"}, "validation_failed"),
    ({"kind": "k" * 101}, "validation_failed"),
    ({"cursor": "garbage"}, "invalid_input"),
    ({"limit": 500, "status": "done"}, "ok"),
]


@pytest.mark.parametrize(("query", "verdict"), LIST_QUERIES)
async def test_job_lists_are_bounded_alike(
    http: httpx.AsyncClient, grpc_client: CoreClient, query: dict[str, Any], verdict: str
) -> None:
    over_http = http_verdict(await http.get("/v1/jobs", params=query))
    over_grpc = await grpc_verdict(grpc_client._stub.ListJobs(pb.ListJobsRequest(**query)))
    assert (over_http, over_grpc) == (verdict, verdict)


@pytest.mark.parametrize("job_id", [NO_JOB, "not-a-uuid", "x" * 300])
async def test_job_ids_are_parsed_alike(
    http: httpx.AsyncClient, grpc_client: CoreClient, job_id: str
) -> None:
    stub = grpc_client._stub
    verdicts = {
        http_verdict(await http.get(f"/v1/jobs/{job_id}")),
        http_verdict(await http.post(f"/v1/jobs/{job_id}/cancel")),
        await grpc_verdict(stub.GetJob(pb.GetJobRequest(job_id=job_id))),
        await grpc_verdict(stub.CancelJob(pb.CancelJobRequest(job_id=job_id))),
    }
    assert verdicts == {"job_not_found"}


@pytest.mark.parametrize("size", [0, 501])
async def test_batches_are_capped_alike(
    http: httpx.AsyncClient, grpc_client: CoreClient, db: asyncpg.Connection, size: int
) -> None:
    over_http = http_verdict(await http.post("/v1/jobs/batch", json=[ECHO] * size))
    jobs = [pb.SubmitJobRequest(kind="echo", payload_json="{}")] * size
    over_grpc = await grpc_verdict(grpc_client._stub.SubmitJobs(pb.SubmitJobsRequest(jobs=jobs)))
    assert (over_http, over_grpc) == ("invalid_input", "invalid_input")
    assert await sql_count(db, "SELECT count(*) FROM jobs") == 0


CLAIMS = [
    ({"lease_seconds": 100_000}, "validation_failed"),
    ({"lease_seconds": -5}, "validation_failed"),
    ({"max_jobs": 10_000}, "validation_failed"),
    ({"wait_seconds": 3600.0}, "validation_failed"),
    ({"kinds": []}, "validation_failed"),
    ({"kinds": ["no spaces"]}, "validation_failed"),
    ({"worker_id": "bad worker"}, "validation_failed"),
    ({}, "ok"),
]


@pytest.mark.parametrize(("change", "verdict"), CLAIMS)
async def test_claims_are_bounded_alike(
    http: httpx.AsyncClient, grpc_client: CoreClient, change: dict[str, Any], verdict: str
) -> None:
    body = {"worker_id": "w", "kinds": ["echo"], **change}
    over_http = http_verdict(await http.post("/v1/workers/claim", json=body))
    over_grpc = await grpc_verdict(grpc_client._stub.ClaimJob(pb.ClaimJobRequest(**body)))
    assert (over_http, over_grpc) == (verdict, verdict)


async def test_a_claim_without_lease_seconds_gets_the_same_default_lease(
    http: httpx.AsyncClient, grpc_client: CoreClient
) -> None:
    await http.post("/v1/jobs/batch", json=[ECHO, ECHO])
    claim = {"worker_id": "w", "kinds": ["echo"]}
    over_http = (await http.post("/v1/workers/claim", json=claim)).json()["job"]
    answer = await grpc_client._stub.ClaimJob(pb.ClaimJobRequest(**claim))

    def lease(job: dict[str, Any] | pb.Job) -> timedelta:
        get = job.get if isinstance(job, dict) else lambda name: getattr(job, name)
        return datetime.fromisoformat(get("lease_until")) - datetime.fromisoformat(
            get("started_at")
        )

    assert answer.found
    assert abs(lease(over_http) - timedelta(seconds=60)) < timedelta(seconds=2)
    assert abs(lease(answer.job) - timedelta(seconds=60)) < timedelta(seconds=2)


LEASE_CALLS = [
    ({"job_id": NO_JOB, "lease_token": "nope"}, "invalid_input"),
    ({"job_id": "not-a-uuid"}, "job_not_found"),
    ({"job_id": NO_JOB}, "job_not_found"),
    ({"job_id": NO_JOB, "worker_id": ""}, "validation_failed"),
]


@pytest.mark.parametrize(("change", "verdict"), LEASE_CALLS)
async def test_lease_calls_parse_ids_alike(
    http: httpx.AsyncClient, grpc_client: CoreClient, change: dict[str, Any], verdict: str
) -> None:
    body = {"worker_id": "w", **change}
    stub = grpc_client._stub
    verdicts = {
        "heartbeat": (
            http_verdict(await http.post("/v1/workers/heartbeat", json=body)),
            await grpc_verdict(stub.Heartbeat(pb.HeartbeatRequest(**body))),
        ),
        "complete": (
            http_verdict(await http.post("/v1/workers/complete", json=body)),
            await grpc_verdict(stub.CompleteJob(pb.CompleteJobRequest(**body))),
        ),
        "fail": (
            http_verdict(await http.post("/v1/workers/fail", json=body)),
            await grpc_verdict(stub.FailJob(pb.FailJobRequest(**body))),
        ),
    }
    assert verdicts["heartbeat"] == (verdict, verdict)
    for call, (over_http, over_grpc) in verdicts.items():
        assert over_http == over_grpc, call
