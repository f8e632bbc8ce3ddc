"""Long-polling claimers are woken one per new job (no herd), and none is left asleep
while work waits."""

from __future__ import annotations

import asyncio

from core.events.hub import ClaimWaiters
from core.runtime import RunningCore
from proto import llm_pb2 as pb
from proto.client import CoreClient
from testkit.support import eventually, start_core


async def test_wake_counts_oldest_first_and_by_kind() -> None:
    waiters = ClaimWaiters()
    with (
        waiters.waiting(frozenset({"a"})) as first,
        waiters.waiting(frozenset({"b"})) as other_kind,
        waiters.waiting(frozenset({"a", "b"})) as second,
        waiters.waiting(frozenset({"a"})) as third,
    ):
        waiters.wake(frozenset({"a"}), 2)
        assert [first.is_set(), second.is_set(), third.is_set()] == [True, True, False]
        assert not other_kind.is_set()
        waiters.wake(frozenset({"a"}), 1)  # already-woken waiters do not use up the count
        assert third.is_set()
        waiters.wake(None)
        assert other_kind.is_set()
    assert len(waiters) == 0


async def test_a_batch_from_another_replica_wakes_enough_claimers(
    core: RunningCore, database_url: str
) -> None:
    async with start_core(database_url) as other, CoreClient(core.grpc_addr) as worker_side:
        claims = [
            asyncio.create_task(
                worker_side.claim(
                    worker_id=f"w{i}", kinds=["echo"], lease_seconds=60, wait_seconds=30
                )
            )
            for i in range(6)
        ]
        # All six found no work and sleep in replica A before the jobs are submitted.
        await eventually(lambda: core.runtime.hub.claimers.asleep == 6)
        assert len(core.runtime.hub.claimers) == 6
        async with CoreClient(other.grpc_addr) as client_side:
            await client_side.submit_jobs(
                [pb.SubmitJobRequest(kind="echo", payload_json="{}") for _ in range(6)]
            )
        # One NOTIFY ("echo:6") wakes six claimers; they get a job each, long before 30 s.
        results = await asyncio.wait_for(asyncio.gather(*claims), 10)
    assert sorted(len(r) for r in results) == [1] * 6
    assert len({r[0].id for r in results}) == 6
