"""Submit → claim → complete over HTTP and over gRPC, against a real core and Postgres."""

from __future__ import annotations

import httpx

from proto.client import CoreClient


async def test_health_reports_database_and_events(http: httpx.AsyncClient) -> None:
    response = await http.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "events": "listening"}


async def test_submit_claim_complete_over_http(http: httpx.AsyncClient) -> None:
    created = await http.post(
        "/v1/jobs",
        json={"kind": "echo", "payload": {"q": 1}, "priority": 1, "source": "svc"},
    )
    assert created.status_code == 201
    job_id = created.json()["job_id"]

    claim = await http.post(
        "/v1/workers/claim", json={"worker_id": "w1", "kinds": ["echo"], "lease_seconds": 60}
    )
    assert claim.status_code == 200
    job = claim.json()["job"]
    assert job["id"] == job_id and job["status"] == "running" and job["attempts"] == 1
    assert job["payload"] == {"q": 1}

    done = await http.post(
        "/v1/workers/complete",
        json={
            "worker_id": "w1",
            "job_id": job_id,
            "lease_token": job["lease_token"],
            "result": {"answer": 42},
            "metrics": {"latency_ms": 3},
        },
    )
    assert done.status_code == 200, done.text
    final = (await http.get(f"/v1/jobs/{job_id}")).json()
    assert final["status"] == "done"
    assert final["result"] == {"answer": 42}
    assert final["metrics"] == {"latency_ms": 3}
    assert final["finished_at"] is not None


async def test_submit_claim_complete_over_grpc(grpc_client: CoreClient) -> None:
    submitted = await grpc_client.submit_job("echo", {"via": "grpc"}, priority=2)
    jobs = await grpc_client.claim(worker_id="g1", kinds=["echo"], lease_seconds=30)
    assert [j.id for j in jobs] == [submitted.job_id]
    status = await grpc_client.complete(
        worker_id="g1", job_id=jobs[0].id, lease_token=jobs[0].lease_token, result={"ok": True}
    )
    assert status == "done"
    job = await grpc_client.get_job(submitted.job_id)
    assert job.status == "done" and job.result_json == '{"ok":true}'


async def test_metrics_count_what_the_queue_did(http: httpx.AsyncClient) -> None:
    def sample(text: str, name: str) -> float:
        lines = [line for line in text.splitlines() if line.startswith(name)]
        return sum(float(line.rsplit(" ", 1)[1]) for line in lines)

    before = (await http.get("/metrics")).text
    job_id = (await http.post("/v1/jobs", json={"kind": "metered"})).json()["job_id"]
    job = (
        await http.post("/v1/workers/claim", json={"worker_id": "m", "kinds": ["metered"]})
    ).json()["job"]
    await http.post(
        "/v1/workers/complete",
        json={"worker_id": "m", "job_id": job_id, "lease_token": job["lease_token"]},
    )
    stale = await http.post(
        "/v1/workers/complete",
        json={"worker_id": "m", "job_id": job_id, "lease_token": job["lease_token"]},
    )
    assert stale.status_code == 409
    after = (await http.get("/metrics")).text
    for name in (
        # No worker offered "metered" when it was submitted: a made-up kind is no label.
        'llm_mcp_jobs_submitted_total{kind="other"}',
        # The claim is a worker offering it.
        'llm_mcp_jobs_claimed_total{kind="metered"}',
        'llm_mcp_job_outcomes_total{outcome="done"}',
        "llm_mcp_lease_refusals_total",
    ):
        assert sample(after, name) == sample(before, name) + 1, name
