"""Sends completions to core, batching whatever piles up while a call is in flight.

An idle worker sends each completion at once (no added latency); a busy one
sends many in one CompleteJobs call, and retries while core is away.
"""

from __future__ import annotations

import asyncio
import logging

from proto import llm_pb2 as pb
from proto.client import CoreClient, CoreClientError, CoreUnavailable
from serving.coalescing import Coalescer

log = logging.getLogger(__name__)

MAX_BATCH = 200


class Completer:
    def __init__(self, client: CoreClient, *, give_up_after: float) -> None:
        self._client = client
        self._give_up_after = give_up_after
        self._calls = Coalescer(self._send, name="worker-completer", max_batch=MAX_BATCH)

    def start(self) -> asyncio.Task[None]:
        """Starts sending; returns the task (for the process to watch)."""
        return self._calls.start()

    async def stop(self) -> None:
        """Stops; callers first wait for every complete() they started."""
        await self._calls.stop()

    async def complete(self, item: pb.CompleteJobRequest) -> str | None:
        """The job's final status, or None when core refused it (lease lost) or stayed away."""
        return await self._calls.submit(item)

    async def _send(self, items: list[pb.CompleteJobRequest]) -> list[str | None]:
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self._give_up_after
        delay = 0.2
        while True:
            try:
                results = await self._client.complete_many(items)
                return [r.status if r.ok else None for r in results]
            except CoreUnavailable as exc:
                if loop.time() + delay > give_up_at:
                    log.error(
                        "giving up completing %d jobs: core unreachable (%s)", len(items), exc
                    )
                    return [None] * len(items)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            except CoreClientError as exc:
                log.error("core refused %d completions: %s", len(items), exc)
                return [None] * len(items)
