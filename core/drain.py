"""A replica's shutdown: once begun, it is unready, ends its event streams and long-polls.

Streams are handed back rather than held: an SSE client reconnects (with Last-Event-ID) and a
gRPC StreamJob caller retries from its last event id, both reaching a replica that stays up.
Requests already running finish within the grace period (the servers see to that).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TypeVar

from proto.client import STREAM_HANDED_BACK as HANDED_BACK

T = TypeVar("T")

__all__ = ["HANDED_BACK", "Drain"]


class Drain:
    """Set once, when the process is told to stop; everything that serves long calls reads it."""

    def __init__(self) -> None:
        self._begun = asyncio.Event()

    @property
    def active(self) -> bool:
        return self._begun.is_set()

    def begin(self) -> None:
        self._begun.set()

    async def wait(self) -> None:
        await self._begun.wait()

    async def until_begun(self, items: AsyncIterator[T]) -> AsyncIterator[T]:
        """Yields from `items` until the drain begins, then closes `items` and stops."""
        begun = asyncio.ensure_future(self._begun.wait())
        try:
            while not begun.done():
                step = asyncio.ensure_future(anext(items))
                await asyncio.wait([step, begun], return_when=asyncio.FIRST_COMPLETED)
                if not step.done():
                    step.cancel()
                    with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                        await step
                    return
                yield step.result()
                if begun.done():
                    return
        except StopAsyncIteration:
            return
        finally:
            begun.cancel()
            aclose = getattr(items, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()
