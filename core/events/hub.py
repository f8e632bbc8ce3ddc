"""The event hub: one LISTEN connection per core process.

Every statement that writes job events sends one NOTIFY with the range of
event ids it wrote and how many jobs of which kinds became claimable (see
db/init). The hub wakes that many long-polling claimers, and pushes the events of
subscribed jobs to their subscribers, reading them in one query per batch of
notifications. When the LISTEN connection drops, it reconnects and tells every
subscriber to re-read from the database, so no terminal event is missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator

import asyncpg

from core.queue.models import JobEvent
from core.queue.store import JobStore

log = logging.getLogger(__name__)

CHANNEL = "llm_mcp_job_events"
RESYNC = None  # what a subscriber receives when it must re-read its events from the database

Connect = Callable[[], Awaitable[asyncpg.Connection]]


class ClaimWaiters:
    """Long-polling claims waiting for work of some kinds."""

    def __init__(self) -> None:
        self._waiters: dict[asyncio.Event, frozenset[str]] = {}
        # Set when the process stops: claims return at once so workers move to another replica.
        self.closed = False

    def close(self) -> None:
        self.closed = True
        self.wake(None)

    @contextlib.contextmanager
    def waiting(self, kinds: frozenset[str]) -> Iterator[asyncio.Event]:
        """Registers a waiter; register before looking for work so no wake-up is lost."""
        event = asyncio.Event()
        self._waiters[event] = kinds
        try:
            yield event
        finally:
            del self._waiters[event]

    def wake(self, kinds: frozenset[str] | None, count: int | None = None) -> None:
        """Wakes up to `count` waiters (None: all), oldest first, for any of `kinds` (None: any).

        Waking only as many claimers as there are new jobs avoids a thundering herd of
        empty claims; a claimer that fills its batch wakes the next one (see the service).
        """
        woken = 0
        for event, wanted in self._waiters.items():
            if count is not None and woken >= count:
                return
            if event.is_set():
                continue
            if kinds is None or not wanted.isdisjoint(kinds):
                event.set()
                woken += 1

    def __len__(self) -> int:
        return len(self._waiters)


class EventHub:
    def __init__(self, connect: Connect, store: JobStore, *, ping_interval: float = 5.0) -> None:
        self._connect = connect
        self._store = store
        self._ping_interval = ping_interval
        self.claimers = ClaimWaiters()
        self._subscribers: dict[uuid.UUID, set[asyncio.Queue[JobEvent | None]]] = defaultdict(set)
        self._pending: list[tuple[int, int]] = []
        self._pending_signal = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.connected = asyncio.Event()
        self.reconnects = 0

    async def start(self) -> None:
        """Starts listening; returns once the first LISTEN is in place."""
        self._tasks = [
            asyncio.create_task(self._listen_forever(), name="event-hub-listen"),
            asyncio.create_task(self._dispatch_forever(), name="event-hub-dispatch"),
        ]
        await self.connected.wait()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    @contextlib.contextmanager
    def subscribe(self, job_id: uuid.UUID) -> Iterator[asyncio.Queue[JobEvent | None]]:
        """A queue of the job's events as they are committed (RESYNC: re-read from the store)."""
        queue: asyncio.Queue[JobEvent | None] = asyncio.Queue()
        self._subscribers[job_id].add(queue)
        try:
            yield queue
        finally:
            subs = self._subscribers.get(job_id)
            if subs is not None:
                subs.discard(queue)
                if not subs:
                    del self._subscribers[job_id]

    @property
    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        ids, _, kinds = payload.partition(";")
        first, _, last = ids.partition(",")
        if kinds == "*":
            self.claimers.wake(None)
        elif kinds:
            for item in kinds.split(","):
                kind, _, count = item.rpartition(":")
                self.claimers.wake(frozenset({kind}), int(count))
        if self._subscribers:
            self._pending.append((int(first), int(last)))
            self._pending_signal.set()

    def _resync_all(self) -> None:
        self.claimers.wake(None)
        for subs in self._subscribers.values():
            for queue in subs:
                queue.put_nowait(RESYNC)

    async def _listen_forever(self) -> None:
        delay = 0.1
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await self._connect()
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, self._on_notify)
                if self.reconnects:
                    log.info("event hub: LISTEN re-established")
                    # Anything may have happened while we were not listening.
                    self._resync_all()
                self.connected.set()
                delay = 0.1
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), self._ping_interval)
                    if not lost.is_set():
                        await asyncio.wait_for(conn.execute("SELECT 1"), self._ping_interval)
                raise ConnectionError("LISTEN connection closed")
            except asyncio.CancelledError:
                if conn is not None and not conn.is_closed():
                    conn.terminate()
                raise
            except Exception as exc:
                self.connected.clear()
                self.reconnects += 1
                log.warning("event hub: LISTEN connection lost (%s); reconnecting", exc)
                if conn is not None and not conn.is_closed():
                    conn.terminate()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _dispatch_forever(self) -> None:
        while True:
            await self._pending_signal.wait()
            self._pending_signal.clear()
            ranges, self._pending = self._pending, []
            job_ids = list(self._subscribers)
            if not ranges or not job_ids:
                continue
            first = min(r[0] for r in ranges)
            last = max(r[1] for r in ranges)
            try:
                events = await self._store.events_in_range(first, last, job_ids)
            except Exception as exc:
                log.warning("event hub: reading events failed (%s); subscribers resync", exc)
                self._resync_all()
                await asyncio.sleep(0.2)
                continue
            for event in events:
                for queue in self._subscribers.get(event.job_id, ()):
                    queue.put_nowait(event)
