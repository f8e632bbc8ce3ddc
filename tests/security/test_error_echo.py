"""Error answers stay small and say only what the caller may know: echoed input is cut, a
lease refusal does not name the worker holding the lease."""

from __future__ import annotations

import httpx
import pytest

from core.runtime import RunningCore
from proto import errors
from proto.client import CoreClient


async def test_an_unbounded_job_id_is_cut_in_the_answer(
    http: httpx.AsyncClient, grpc_client: CoreClient
) -> None:
    huge = "x" * 300_000
    with pytest.raises(errors.JobNotFound) as raised:
        await grpc_client.get_job(huge)
    assert len(raised.value.message) < 300
    assert "300000 characters" in raised.value.message
    answer = await http.get(f"/v1/jobs/{'y' * 5000}")
    assert answer.status_code == 404
    assert len(answer.content) < 500


async def test_a_lease_refusal_does_not_name_the_holder(
    core: RunningCore, http: httpx.AsyncClient, grpc_client: CoreClient
) -> None:
    job_id = (await http.post("/v1/jobs", json={"kind": "echo"})).json()["job_id"]
    [held] = await grpc_client.claim(worker_id="holder-7f3a", kinds=["echo"], lease_seconds=30)
    assert held.id == job_id
    answer = await http.post(
        "/v1/workers/heartbeat",
        json={"worker_id": "intruder", "job_id": job_id, "lease_token": str(job_id)},
    )
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "lease_lost"
    assert "holder-7f3a" not in answer.text
    with pytest.raises(errors.LeaseLost) as raised:
        await grpc_client.heartbeat(
            worker_id="intruder", job_id=job_id, lease_token=str(job_id), extend_seconds=30
        )
    assert "holder-7f3a" not in raised.value.message
