"""Calls that carry what piled up while the one before was in flight (a worker's completions
and progress reports, core's inserts of routed jobs): one at a time."""

from __future__ import annotations

import asyncio

import pytest

from serving.coalescing import Coalescer


class Core:
    """A stand-in for one of core's batch calls, held open until released."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.release = asyncio.Event()
        self.called = asyncio.Event()
        self.fail_next = False

    async def send(self, items: list[str]) -> list[str]:
        self.calls.append(items)
        self.called.set()
        await self.release.wait()
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("core went away")
        return [item.upper() for item in items]


async def test_an_idle_item_goes_at_once_and_what_piles_up_shares_the_next_call() -> None:
    core = Core()
    calls = Coalescer(core.send, name="test", max_batch=3)
    calls.start()
    try:
        first = asyncio.create_task(calls.submit("a"))
        await core.called.wait()
        assert core.calls == [["a"]]  # sent without waiting for company
        queued: list[str] = []
        all_queued = asyncio.Event()

        async def submit(item: str) -> str:
            queued.append(item)
            if len(queued) == 5:
                all_queued.set()
            # Queued in this same step, so before the test sees the event.
            return await calls.submit(item)

        rest = [asyncio.create_task(submit(x)) for x in "bcdef"]
        await all_queued.wait()  # all five wait behind the call in flight
        core.release.set()
        assert await first == "A"
        assert await asyncio.gather(*rest) == list("BCDEF")
        assert core.calls == [["a"], ["b", "c", "d"], ["e", "f"]]
    finally:
        await calls.stop()


async def test_a_failed_call_fails_its_items_only() -> None:
    core = Core()
    core.fail_next = True
    core.release.set()
    calls = Coalescer(core.send, name="test", max_batch=10)
    calls.start()
    try:
        with pytest.raises(ConnectionError):
            await calls.submit("a")
        assert await calls.submit("b") == "B"
    finally:
        await calls.stop()
