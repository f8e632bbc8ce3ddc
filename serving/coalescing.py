"""One call at a time, carrying whatever piled up while the one before was in flight.

An idle caller's item goes out at once (no added latency); a busy process's items share one
call. A worker's completions and progress reports go to core this way, and core's single
inserts and completions go to Postgres this way. Before start() and after stop(), each item
is a call of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Answer = TypeVar("Answer")


class Coalescer(Generic[Item, Answer]):
    def __init__(
        self,
        send: Callable[[list[Item]], Awaitable[list[Answer]]],
        *,
        name: str,
        max_batch: int,
    ) -> None:
        """`send` answers one item per item, in order; what it raises, each item's submit()
        raises."""
        self._send = send
        self._name = name
        self._max_batch = max_batch
        self._pending: list[tuple[Item, asyncio.Future[Answer]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # Items submitted whose call has not answered yet (waiting for one, or in it).
        self.unanswered = 0

    def start(self) -> asyncio.Task[None]:
        """Starts sending; returns the task (for the process to watch)."""
        self._task = asyncio.create_task(self._flush_forever(), name=self._name)
        return self._task

    async def stop(self) -> None:
        """Stops; callers first wait for every submit() they started."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def submit(self, item: Item) -> Answer:
        if self._task is None:
            return (await self._send([item]))[0]
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        self._wake.set()
        self.unanswered += 1
        try:
            return await future
        finally:
            self.unanswered -= 1

    async def _flush_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                try:
                    answers = await self._send([item for item, _ in batch])
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), answer in zip(batch, answers, strict=True):
                    if not future.done():
                        future.set_result(answer)
