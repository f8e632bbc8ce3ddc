"""Streamed tokens to core as progress events, batched.

The first chunk goes out at once (time to first token); later ones are gathered and sent at
most every `interval` seconds, one ReportProgress at a time, so events stay in order and
their count stays sane. When the job is done, finish() hands back what is left unsent, and
the completion carries it: the end of a stream and the job's result in one call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from proto.contract import DELTA, PROGRESS_TYPE, THINKING, TOKEN

log = logging.getLogger(__name__)

Send = Callable[[dict[str, Any]], Awaitable[Any]]
# ReportProgress refuses data over 64 KiB; a batch is cut well below.
MAX_BATCH_CHARS = 16_000


class ProgressBatcher:
    def __init__(self, send: Send, *, interval: float = 0.05) -> None:
        self._send = send
        self._interval = interval
        self._text: list[str] = []
        self._thinking: list[str] = []
        self._wake = asyncio.Event()
        self._closed = False
        self._finishing = False  # keep the last batch for finish() to hand back
        self._closing = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.events_sent = 0
        self.failed = False

    def add(self, *, text: str = "", thinking: str = "") -> None:
        """Queues a chunk (sync: handlers call it between reads of the provider's stream)."""
        if not text and not thinking:
            return
        if text:
            self._text.append(text)
        if thinking:
            self._thinking.append(thinking)
        if self._task is None:
            self._task = asyncio.create_task(self._run())
        self._wake.set()

    async def finish(self) -> dict[str, Any] | None:
        """Stops, once a report in flight is answered, and returns the rest as one report's
        data (None when there is none, or reporting failed), for the completion to carry."""
        self._finishing = True
        self._closed = True
        self._closing.set()
        self._wake.set()
        if self._task is not None:
            await self._task
        if self.failed or not (self._text or self._thinking):
            return None
        return self._batch()

    async def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while (self._text or self._thinking) and not (self._finishing and self._fits()):
                await self._flush()
            if self._closed:
                return
            # Gather chunks for a while; close() cuts the wait short (the job is done).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self._interval)

    def _fits(self) -> bool:
        """What is buffered fits one report."""
        return (
            sum(map(len, self._text)) <= MAX_BATCH_CHARS
            and sum(map(len, self._thinking)) <= MAX_BATCH_CHARS
        )

    def _batch(self) -> dict[str, Any]:
        text, thinking = self._take(self._text), self._take(self._thinking)
        data: dict[str, Any] = {PROGRESS_TYPE: TOKEN}
        if text:
            data[DELTA] = text
        if thinking:
            data[THINKING] = thinking
        return data

    async def _flush(self) -> None:
        data = self._batch()
        if self.failed:
            return
        try:
            await self._send(data)
            self.events_sent += 1
        except Exception as exc:  # the job's result still carries everything
            self.failed = True
            log.warning("could not report progress (%s); later chunks are dropped", exc)

    @staticmethod
    def _take(parts: list[str]) -> str:
        taken: list[str] = []
        size = 0
        while parts and size < MAX_BATCH_CHARS:
            room = MAX_BATCH_CHARS - size
            head = parts[0]
            if len(head) > room:
                taken.append(head[:room])
                parts[0] = head[room:]
                size += room
                break
            taken.append(parts.pop(0))
            size += len(head)
        return "".join(taken)
