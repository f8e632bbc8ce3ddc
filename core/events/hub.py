"""The event hub: one LISTEN connection per core process.

Every statement that writes job events sends one NOTIFY with the range of
event ids it wrote and how many jobs of which kinds became claimable (see
db/init). The hub wakes that many long-polling claimers, and pushes the events of
subscribed jobs to their subscribers, reading them in one query per batch of
notifications. A notification hands out the events of its own statement only, in its
turn: ids come from one sequence, so another statement's may fall inside its range, and
handing those out early could put a job's end before an event it committed earlier.
When the LISTEN connection drops, it reconnects and tells every subscriber to re-read
from the database, so no terminal event is missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator

import asyncpg

from core.db.pool import ping
from core.queue.models import JobEvent
from core.queue.store import JobStore

log = logging.getLogger(__name__)

CHANNEL = "llm_mcp_job_events"
RESYNC = None  # what a subscriber receives when it must re-read its events from the database
LOCAL_EVENTS_KEPT = 4096
# How long a NOTIFY's dispatch waits for this replica's statements under way to hand over the
# events they wrote, before it reads them from the database.
LOCAL_WRITE_WAIT_SECONDS = 0.05

Connect = Callable[[], Awaitable[asyncpg.Connection]]


class ClaimWaiters:
    """Long-polling claims waiting for work of some kinds."""

    def __init__(self) -> None:
        self._waiters: dict[asyncio.Event, frozenset[str]] = {}
        self._asleep = 0
        # Set when the process stops: claims return at once so workers move to another replica.
        self.closed = False
        # Moves on with every wake-up, whether or not it found a waiter: a claim that saw the
        # queue empty at one generation knows nothing new came while it stays the same.
        self.generation = 0

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

    async def sleep(self, event: asyncio.Event, seconds: float) -> None:
        """Waits until `event` (a registered waiter) is woken, or for `seconds`."""
        self._asleep += 1
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), seconds)
        finally:
            self._asleep -= 1

    @property
    def asleep(self) -> int:
        """How many claims are parked in `sleep` now, having found no work."""
        return self._asleep

    def wake(self, kinds: frozenset[str] | None, count: int | None = None) -> None:
        """Wakes up to `count` waiters (None: all), oldest first, for any of `kinds` (None: any).

        Waking only as many claimers as there are new jobs avoids a thundering herd of
        empty claims; a claimer that fills its batch wakes the next one (see the service).
        """
        self.generation += 1
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
        # NOTIFYed event id ranges not dispatched yet, each with the writes of this replica
        # that were under way when it came (one of them may hold its events).
        self._pending: list[tuple[int, int, tuple[asyncio.Future[None], ...]]] = []
        self._writes: set[asyncio.Future[None]] = set()
        self._side_tasks: set[asyncio.Task[None]] = set()
        # Events this replica's statements wrote and returned (see deliver): by the first id
        # of each statement's events, its last id and its events.
        self._local: dict[int, tuple[int, list[JobEvent]]] = {}
        self._local_count = 0  # events in _local
        # Ids of queued events whose claimers this replica woke itself (see woke_locally).
        self._woken: set[int] = set()
        self._pending_signal = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.connected = asyncio.Event()
        self.reconnects = 0
        # Called on every notification, whatever the job: the live dashboard's cue to refresh.
        self.activity_listeners: list[Callable[[], None]] = []

    async def start(self) -> None:
        """Starts listening; returns once the first LISTEN is in place."""
        self._tasks = [
            asyncio.create_task(self._listen_forever(), name="event-hub-listen"),
            asyncio.create_task(self._dispatch_forever(), name="event-hub-dispatch"),
        ]
        await self.connected.wait()

    @property
    def tasks(self) -> list[asyncio.Task[None]]:
        """The listener and dispatcher tasks (for the process to watch), until stop()."""
        return list(self._tasks)

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
        queue = self.open(job_id)
        try:
            yield queue
        finally:
            self.close(job_id, queue)

    def open(self, job_id: uuid.UUID) -> asyncio.Queue[JobEvent | None]:
        """As subscribe, for a subscription that outlives one block; close it with close()."""
        queue: asyncio.Queue[JobEvent | None] = asyncio.Queue()
        self._subscribers[job_id].add(queue)
        return queue

    def close(self, job_id: uuid.UUID, queue: asyncio.Queue[JobEvent | None]) -> None:
        subs = self._subscribers.get(job_id)
        if subs is not None:
            subs.discard(queue)
            if not subs:
                del self._subscribers[job_id]

    def deliver(self, events: list[JobEvent]) -> None:
        """All the events one statement of this replica just wrote, as it returned them: when
        its NOTIFY comes, subscribers get these instead of a read of the same rows. Handed out
        in the NOTIFY's turn, so a job's events still arrive in order. Kept whether or not the
        job has a subscriber yet: one usually subscribes right after submitting."""
        if not events:
            return
        ordered = sorted(events, key=lambda e: e.id)
        replaced = self._local.pop(ordered[0].id, None)
        self._local[ordered[0].id] = (ordered[-1].id, ordered)
        self._local_count += len(ordered) - (len(replaced[1]) if replaced else 0)
        # Ones whose NOTIFY came first, or found no subscriber: forget the oldest.
        while self._local_count > LOCAL_EVENTS_KEPT:
            self._local_count -= len(self._local.pop(next(iter(self._local)))[1])

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Around a statement of this replica that writes events and hands them to deliver():
        a NOTIFY that arrives before its result waits for it instead of reading the rows."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._writes.add(done)
        try:
            yield
        finally:
            self._writes.discard(done)
            done.set_result(None)

    def woke_locally(self, events: list[JobEvent]) -> None:
        """This replica woke its claimers for these new jobs itself, without waiting for
        their NOTIFY; when it comes, it wakes no claimer here a second time."""
        self._woken.update(e.id for e in events)
        if len(self._woken) > LOCAL_EVENTS_KEPT:  # NOTIFYs lost to a reconnect
            self._woken.clear()

    def _already_woken(self, first: int, last: int) -> bool:
        ids = range(first, last + 1)
        if len(ids) > 64 or any(i not in self._woken for i in ids):
            return False
        self._woken.difference_update(ids)
        return True

    @property
    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        ids, _, kinds = payload.partition(";")
        first, _, last = ids.partition(",")
        if kinds and kinds != "*" and self._writes:
            # A statement of ours under way may have written these jobs and be about to wake
            # its claimers itself: decide once it has.
            writes = tuple(self._writes)
            task = asyncio.get_running_loop().create_task(
                self._wake_after(writes, int(first), int(last), kinds)
            )
            self._side_tasks.add(task)
            task.add_done_callback(self._side_tasks.discard)
        else:
            self._wake_claimers(int(first), int(last), kinds)
        if self._subscribers:
            self._pending.append((int(first), int(last), tuple(self._writes)))
            self._pending_signal.set()
        for listener in self.activity_listeners:
            listener()

    def _wake_claimers(self, first: int, last: int, kinds: str) -> None:
        """Wakes the claimers a NOTIFY asks for (`kinds`: "kind:count,..." or "*")."""
        if kinds and kinds != "*" and self._already_woken(first, last):
            return  # this replica wrote these jobs and woke its claimers at once
        if kinds == "*":
            self.claimers.wake(None)
        elif kinds:
            for item in kinds.split(","):
                kind, _, count = item.rpartition(":")
                self.claimers.wake(frozenset({kind}), int(count))

    async def _wake_after(
        self, writes: tuple[asyncio.Future[None], ...], first: int, last: int, kinds: str
    ) -> None:
        await asyncio.wait(writes, timeout=LOCAL_WRITE_WAIT_SECONDS)
        self._wake_claimers(first, last, kinds)

    def _resync_all(self) -> None:
        self.claimers.wake(None)
        for listener in self.activity_listeners:
            listener()
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
                        await ping(conn, limit_seconds=self._ping_interval)
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

    def _take_local(self, first: int, last: int, *, peek: bool = False) -> list[JobEvent] | None:
        """The events of one NOTIFY when this replica holds them (its statement was ours and
        has returned), else None; `peek` leaves them held."""
        held = self._local.get(first)
        if held is None or held[0] != last:
            return None
        if not peek:
            del self._local[first]
            self._local_count -= len(held[1])
        return held[1]

    async def _dispatch_forever(self) -> None:
        while True:
            await self._pending_signal.wait()
            # One turn of the loop: the statement whose NOTIFY this is may be about to hand
            # its events over (deliver), which saves reading them.
            await asyncio.sleep(0)
            self._pending_signal.clear()
            ranges, self._pending = self._pending, []
            job_ids = list(self._subscribers)
            if not ranges or not job_ids:
                continue
            writes = {w for *_, ws in ranges for w in ws if not w.done()}
            if writes and any(self._take_local(f, la, peek=True) is None for f, la, _ in ranges):
                # A statement of ours may be about to hand these events over: wait for it
                # (briefly: the NOTIFY may be another replica's) rather than read them.
                await asyncio.wait(writes, timeout=LOCAL_WRITE_WAIT_SECONDS)
            # Each NOTIFY's events, in the order the NOTIFYs came (the order of the commits).
            notified = [self._take_local(first, last) for first, last, _ in ranges]
            unknown = [r[:2] for r, held in zip(ranges, notified, strict=True) if held is None]
            if unknown:
                try:
                    read = await self._store.events_of_notifications(unknown, job_ids)
                except Exception as exc:
                    log.warning("event hub: reading events failed (%s); subscribers resync", exc)
                    self._resync_all()
                    await asyncio.sleep(0.2)
                    continue
                for i, (first, last, _) in enumerate(ranges):
                    if notified[i] is None:
                        # Ours when its statement returned while we read: a terminal event
                        # then carries its finished job, which need not be read again.
                        notified[i] = self._take_local(first, last) or read.get(first, [])
            events = [event for held in notified for event in held or ()]
            for event in events:
                for queue in self._subscribers.get(event.job_id, ()):
                    queue.put_nowait(event)
