"""For tests of shared statements: the jobs table held so that writes pile up behind the
first one, the job events' NOTIFYs counted, and a queue service of the test's own."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg

from core.db.pool import create_pool
from core.events.hub import CHANNEL, EventHub
from core.queue.service import QueueService
from core.queue.store import JobStore


@contextlib.asynccontextmanager
async def jobs_table_held(
    database_url: str, mode: str
) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """`LOCK TABLE jobs IN <mode> MODE` until the release() it yields is awaited (or the block
    ends): SHARE holds inserts and updates, EXCLUSIVE claims too."""
    locker = await asyncpg.connect(database_url)
    hold = locker.transaction()
    await hold.start()
    await locker.execute(f"LOCK TABLE jobs IN {mode} MODE")

    released = False

    async def release() -> None:
        nonlocal released
        if not released:
            released = True
            await hold.rollback()

    try:
        yield release
    finally:
        await release()
        await locker.close()


@contextlib.asynccontextmanager
async def notifications(database_url: str) -> AsyncIterator[list[str]]:
    """The payloads of the NOTIFYs of job events sent while the block runs: one per statement
    that wrote events."""
    listener = await asyncpg.connect(database_url)
    payloads: list[str] = []
    try:
        await listener.add_listener(CHANNEL, lambda *args: payloads.append(args[3]))
        yield payloads
    finally:
        await listener.close()


@contextlib.asynccontextmanager
async def started_queue(database_url: str) -> AsyncIterator[tuple[QueueService, asyncpg.Pool]]:
    """A queue service sharing statements, on a pool of two connections."""
    pool = await create_pool(database_url, min_size=1, max_size=2)
    store = JobStore(pool)
    queue = QueueService(store, EventHub(lambda: asyncpg.connect(database_url), store))
    queue.start()
    try:
        yield queue, pool
    finally:
        await queue.stop()
        await pool.close()
