"""Batches tell the truth: a job named twice in one CompleteJobs is completed once and
reported once; /v1/jobs/batch honours Idempotency-Key like /v1/jobs."""

from __future__ import annotations

import asyncpg
import httpx

from core.runtime import RunningCore
from proto import llm_pb2 as pb
from proto.client import CoreClient


async def test_a_job_twice_in_one_completion_batch_is_applied_once(
    core: RunningCore, http: httpx.AsyncClient, grpc_client: CoreClient
) -> None:
    job_id = (await http.post("/v1/jobs", json={"kind": "echo"})).json()["job_id"]
    [job] = await grpc_client.claim(worker_id="w", kinds=["echo"], lease_seconds=30)
    item = pb.CompleteJobRequest(
        worker_id="w", job_id=job_id, lease_token=job.lease_token, result_json='{"n": 1}'
    )
    again = pb.CompleteJobRequest(
        worker_id="w", job_id=job_id, lease_token=job.lease_token, result_json='{"n": 2}'
    )
    results = await grpc_client.complete_many([item, again])
    assert [(r.ok, r.status) for r in results] == [(True, "done"), (False, "")]
    assert (await http.get(f"/v1/jobs/{job_id}")).json()["result"] == {"n": 1}


async def test_the_batch_route_honours_idempotency_key(
    core: RunningCore, http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    batch = [{"kind": "echo", "payload": {"i": i}} for i in range(3)]
    first = await http.post("/v1/jobs/batch", json=batch, headers={"Idempotency-Key": "b-1"})
    assert first.status_code == 201
    again = await http.post("/v1/jobs/batch", json=batch, headers={"Idempotency-Key": "b-1"})
    assert again.status_code == 200
    assert [j["job_id"] for j in again.json()["jobs"]] == [
        j["job_id"] for j in first.json()["jobs"]
    ]
    assert all(not j["created"] for j in again.json()["jobs"])
    assert int(await db.fetchval("SELECT count(*) FROM jobs")) == 3
    other = await http.post("/v1/jobs/batch", json=batch, headers={"Idempotency-Key": "b-2"})
    assert other.status_code == 201
    assert int(await db.fetchval("SELECT count(*) FROM jobs")) == 6
