"""Sends completions to core, batching whatever piles up while a call is in flight.

An idle worker sends each completion at once (no added latency); a busy one
sends many in one CompleteJobs call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from proto import llm_pb2 as pb
from proto.client import CoreClient, CoreClientError, CoreUnavailable

log = logging.getLogger(__name__)

MAX_BATCH = 200


class Completer:
    def __init__(self, client: CoreClient, *, give_up_after: float) -> None:
        self._client = client
        self._give_up_after = give_up_after
        self._pending: list[tuple[pb.CompleteJobRequest, asyncio.Future[str | None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> asyncio.Task[None]:
        """Starts sending; returns the task (for the process to watch)."""
        self._task = asyncio.create_task(self._flush_forever(), name="worker-completer")
        return self._task

    async def stop(self) -> None:
        """Stops; callers first wait for every complete() they started."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def complete(self, item: pb.CompleteJobRequest) -> str | None:
        """The job's final status, or None when core refused it (lease lost) or stayed away."""
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        self._wake.set()
        return await future

    async def _flush_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                statuses = await self._send([item for item, _ in batch])
                for (_, future), status in zip(batch, statuses, strict=True):
                    if not future.done():
                        future.set_result(status)

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
