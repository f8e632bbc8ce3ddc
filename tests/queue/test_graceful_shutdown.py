"""A core replica told to stop: streams handed back (clients resume on the other replica and see
their terminal event), long-polls answered at once, the process gone well within its grace."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import asyncpg
import httpx
import pytest

from core.db.store import translated_errors
from core.errors import StoreUnavailable
from core.runtime import RunningCore
from proto.client import CoreClient
from testkit.sse import read_sse
from testkit.support import eventually, running_worker, start_core

GRACE = 8.0


async def sse_frames(
    client: httpx.AsyncClient,
    job_id: str,
    raw: list[str],
    frames: list[dict[str, Any]] | None = None,
    **headers: str,
) -> list[dict[str, Any]]:
    """The stream's frames (also appended to `frames` as they come), its raw lines in `raw`."""
    frames = [] if frames is None else frames
    async with client.stream("GET", f"/v1/jobs/{job_id}/stream", headers=headers) as response:
        assert response.status_code == 200
        async for frame in read_sse(_recording(response, raw)):
            frames.append(frame)
        return frames


class _recording:
    """Passes an httpx response's lines on to read_sse, keeping a copy of each."""

    def __init__(self, response: httpx.Response, lines: list[str]) -> None:
        self._response, self._lines = response, lines

    async def aiter_lines(self) -> Any:
        async for line in self._response.aiter_lines():
            self._lines.append(line)
            yield line


@contextlib.asynccontextmanager
async def two_replicas(database_url: str) -> Any:
    """Replica A (the one the test stops, entered on a stack) and replica B."""
    async with (
        start_core(database_url, shutdown_grace_seconds=GRACE) as b,
        contextlib.AsyncExitStack() as stack,
    ):
        a = await stack.enter_async_context(start_core(database_url, shutdown_grace_seconds=GRACE))
        yield a, b, stack


@contextlib.asynccontextmanager
async def stoppable_replicas(database_url: str) -> Any:
    """Two replicas, each on a stack of its own, so the test may stop either one."""
    async with contextlib.AsyncExitStack() as outer:
        pairs = []
        for _ in range(2):
            stack = await outer.enter_async_context(contextlib.AsyncExitStack())
            core = await stack.enter_async_context(
                start_core(database_url, shutdown_grace_seconds=GRACE)
            )
            pairs.append((core, stack))
        yield pairs


async def stopped_within(stack: contextlib.AsyncExitStack) -> float:
    started = time.monotonic()
    await asyncio.wait_for(stack.aclose(), GRACE + 5)
    return time.monotonic() - started


async def test_a_stopping_replica_hands_its_sse_streams_to_the_other(database_url: str) -> None:
    async with two_replicas(database_url) as (a, b, stack):
        async with httpx.AsyncClient(base_url=a.http_url) as on_a:
            job_id = (
                await on_a.post("/v1/jobs", json={"kind": "echo", "payload": {"n": 1}})
            ).json()["job_id"]
            raw: list[str] = []
            seen: list[dict[str, Any]] = []
            first = asyncio.create_task(sse_frames(on_a, job_id, raw, seen))
            await eventually(lambda: len(seen) == 2)  # the job's state and its queued event
            took = await stopped_within(stack)
            frames = await asyncio.wait_for(first, 5)
        # Nothing was in flight but the stream, so A did not wait out its grace period.
        assert took < GRACE / 2, f"stopping took {took:.1f}s"
        assert [f["event"] for f in frames] == ["job", "queued"]
        assert any(line.startswith("retry:") for line in raw), "no reconnect hint"
        async with httpx.AsyncClient(base_url=b.http_url) as on_b:
            resumed = asyncio.create_task(
                sse_frames(on_b, job_id, [], **{"Last-Event-ID": frames[-1]["id"]})
            )
            async with running_worker(b.grpc_addr):
                rest = await asyncio.wait_for(resumed, 10)
        assert [f["event"] for f in rest] == ["job", "running", "done"]
        assert rest[-1]["data"]["job"]["result"] == {"n": 1}


async def test_a_grpc_stream_resumes_on_the_other_replica(database_url: str) -> None:
    async with stoppable_replicas(database_url) as pairs:
        ports = [core.grpc_addr.rsplit(":", 1)[1] for core, _ in pairs]
        # One channel that knows both replicas, as workers and the bridge are deployed.
        async with CoreClient(f"ipv4:127.0.0.1:{ports[0]},127.0.0.1:{ports[1]}") as client:
            job_id = (await client.submit_job(kind="echo", payload={"n": 2})).job_id
            seen: list[tuple[int, str]] = []

            async def follow() -> None:
                async for event in client.stream_job(job_id):
                    seen.append((event.id, event.type))

            stream = asyncio.create_task(follow())
            serving = await eventually(
                lambda: seen and next((p for p in pairs if p[0].runtime.hub.subscriber_count), None)
            )
            await stopped_within(serving[1])
            (other, _), *_ = [p for p in pairs if p is not serving]
            async with running_worker(other.grpc_addr):
                await asyncio.wait_for(stream, 15)
        assert [t for _, t in seen] == ["queued", "running", "done"]
        assert len({i for i, _ in seen}) == 3


async def test_long_polls_are_answered_at_once_when_the_replica_stops(database_url: str) -> None:
    async with two_replicas(database_url) as (a, _b, stack):
        async with (
            CoreClient(a.grpc_addr) as client,
            httpx.AsyncClient(base_url=a.http_url) as on_a,
        ):
            grpc_claim = asyncio.create_task(
                client.claim(worker_id="w1", kinds=["echo"], lease_seconds=30, wait_seconds=30)
            )
            http_claim = asyncio.create_task(
                on_a.post(
                    "/v1/workers/claim",
                    json={"worker_id": "w2", "kinds": ["echo"], "wait_seconds": 30},
                    timeout=40,
                )
            )
            await eventually(lambda: len(a.runtime.hub.claimers) == 2)
            took = await stopped_within(stack)
            assert await asyncio.wait_for(grpc_claim, 1) == []
            answer = await asyncio.wait_for(http_claim, 1)
        assert answer.status_code in (200, 204), answer.text
        assert took < GRACE / 2, f"stopping took {took:.1f}s"


async def test_a_stopping_replica_reports_itself_unready(core: RunningCore) -> None:
    async with httpx.AsyncClient(base_url=core.http_url) as http:
        assert (await http.get("/health")).status_code == 200
        core.runtime.drain.begin()
        answer = await http.get("/health")
    assert answer.status_code == 503
    assert answer.json()["status"] == "draining"


@pytest.mark.parametrize(
    "driver_error",
    [
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.InternalClientError("cannot switch to state 12; another operation is in progress"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_restarting_database_is_unavailable_not_an_internal_error(
    driver_error: Exception,
) -> None:
    """What a Postgres restart raises mid-request reaches clients as 503 / UNAVAILABLE."""
    with pytest.raises(StoreUnavailable), translated_errors():
        raise driver_error
