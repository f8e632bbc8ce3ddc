"""Streams that always end, and one Last-Event-ID rule on core's SSE, the bridge's SSE and
gRPC StreamJob: a resume at or past the terminal event gets it again and the stream ends; an
id that is not a whole number from 0 to 2^63 - 1 is refused (400 / INVALID_ARGUMENT)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from core.runtime import RunningCore
from proto import errors
from proto.client import CoreClient
from testkit.bridge import start_bridge
from testkit.sse import read_sse

BAD_IDS = ("9223372036854775808", "99999999999999999999999", "-1", "abc", "1e3", "+5")


async def finished_job(http: httpx.AsyncClient, grpc_client: CoreClient) -> tuple[str, int]:
    """A done job and its terminal event's id."""
    job_id = (await http.post("/v1/jobs", json={"kind": "echo"})).json()["job_id"]
    [job] = await grpc_client.claim(worker_id="w", kinds=["echo"], lease_seconds=30)
    await grpc_client.complete(worker_id="w", job_id=job_id, lease_token=job.lease_token, result={})
    events = [e async for e in grpc_client.stream_job(job_id)]
    assert events[-1].type == "done"
    return job_id, events[-1].id


async def sse(http: httpx.AsyncClient, url: str, last_event_id: str) -> list[dict[str, Any]]:
    async with asyncio.timeout(10):  # a stream that does not end fails here
        async with http.stream("GET", url, headers={"Last-Event-ID": last_event_id}) as answer:
            assert answer.status_code == 200
            return [frame async for frame in read_sse(answer)]


async def test_a_resume_at_or_past_the_end_gets_the_end_on_every_face(
    core: RunningCore, http: httpx.AsyncClient, grpc_client: CoreClient
) -> None:
    job_id, done_id = await finished_job(http, grpc_client)
    resumes = (done_id, done_id + 1000, 2**63 - 1)
    async with start_bridge(core.grpc_addr) as bridge, httpx.AsyncClient() as bridge_http:
        for after in resumes:
            for url in (
                f"{core.http_url}/v1/jobs/{job_id}/stream",
                f"{bridge.url}/jobs/{job_id}/stream",
            ):
                frames = await sse(bridge_http, url, str(after))
                assert [f["event"] for f in frames] == ["job", "done"], (url, after)
                assert frames[0]["data"]["status"] == "done"
                assert frames[1]["id"] == str(done_id)
            async with asyncio.timeout(10):
                events = [e async for e in grpc_client.stream_job(job_id, last_event_id=after)]
            assert [(e.type, e.id, e.job.status) for e in events] == [("done", done_id, "done")]
        # Before the end, a resume still gets only what follows.
        frames = await sse(bridge_http, f"{core.http_url}/v1/jobs/{job_id}/stream", "0")
        assert [f["event"] for f in frames] == ["job", "queued", "running", "done"]


async def test_an_invalid_last_event_id_is_refused_up_front_on_every_face(
    core: RunningCore, http: httpx.AsyncClient, grpc_client: CoreClient
) -> None:
    job_id, _ = await finished_job(http, grpc_client)
    async with start_bridge(core.grpc_addr) as bridge, httpx.AsyncClient() as client:
        for bad in BAD_IDS:
            for url in (
                f"{core.http_url}/v1/jobs/{job_id}/stream",
                f"{bridge.url}/jobs/{job_id}/stream",
            ):
                answer = await client.get(url, headers={"Last-Event-ID": bad})
                assert answer.status_code == 400, (url, bad, answer.text)
                assert answer.json()["error"]["code"] == "invalid_last_event_id"
    with pytest.raises(errors.InvalidEventId):
        async for _ in grpc_client.stream_job(job_id, last_event_id=-1):
            pass
