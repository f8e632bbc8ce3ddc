"""Following one job's events: a subscription to the event hub, the events already written
(read once, or none for a job watched from before it was written), then the live ones until
the terminal event. HTTP SSE, gRPC StreamJob and the drop-in APIs' waiting calls share it."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass

from core.errors import JobNotFound
from core.events.hub import RESYNC, EventHub
from core.queue.ids import parse_job_id
from core.queue.models import Job, JobEvent
from core.queue.store import JobStore
from proto.event_ids import check_event_id


@dataclass(frozen=True)
class Watch:
    """A subscription to one job's events (JobFollowing.watch)."""

    job_id: uuid.UUID
    queue: asyncio.Queue[JobEvent | None]


class JobFollowing:
    def __init__(self, store: JobStore, hub: EventHub, *, resync_seconds: float) -> None:
        self._store = store
        self._hub = hub
        # A stream with nothing new re-reads the database this often (a lost notification).
        self._resync_seconds = resync_seconds

    def watch(self, job_id: uuid.UUID) -> Watch:
        """Subscribes to the events of a job about to be written with this id (NewJob.id), so
        following it needs no read of what came before. Hand it to follow(), or unwatch()."""
        return Watch(job_id, self._hub.open(job_id))

    def unwatch(self, watch: Watch) -> None:
        self._hub.close(watch.job_id, watch.queue)

    async def follow(
        self,
        job_id: str | uuid.UUID,
        *,
        last_event_id: int = 0,
        watch: Watch | None = None,
    ) -> AsyncIterator[JobEvent | None]:
        """The job's events after `last_event_id`, then live ones; ends after the terminal event
        (sent again when the resume is at or past it: `proto/event_ids.py` has the rule); the
        terminal event carries the finished job.

        `watch`: a subscription taken before the job was written (see watch()); its events
        then all come through it, nothing is read, and it is closed when the stream ends.
        Yields None when nothing happened for a while (a moment to send a keep-alive).
        Raises InvalidEventId or JobNotFound before yielding anything.
        """
        if watch is not None:
            events = self._follow(watch.job_id, watch.queue, [], last_event_id)
        else:
            _, events = await self.open_follow(job_id, last_event_id=last_event_id)
        async with contextlib.aclosing(events):
            async for event in events:
                yield event

    async def open_follow(
        self, job_id: str | uuid.UUID, *, last_event_id: int = 0
    ) -> tuple[Job, AsyncIterator[JobEvent | None]]:
        """The job as it is now and its events as follow() gives them, from one read.

        Raises InvalidEventId or JobNotFound."""
        check_event_id(last_event_id)
        job_uuid = parse_job_id(job_id)
        # Subscribed before the read, so no event falls between the two.
        queue = self._hub.open(job_uuid)
        try:
            job, backlog = await self._store.get_with_events_after(job_uuid, last_event_id)
        except BaseException:
            self._hub.close(job_uuid, queue)
            raise
        if job is None:
            self._hub.close(job_uuid, queue)
            raise JobNotFound(job_id)
        if not backlog and last_event_id > 0 and job.finished:
            # A resume at or past the end: the terminal event again, so the stream ends.
            _, events = await self._store.get_with_events_after(job_uuid, 0)
            backlog = [e for e in events if e.terminal][-1:]
        return job, self._follow(job_uuid, queue, backlog, last_event_id)

    def _follow(
        self,
        job_uuid: uuid.UUID,
        queue: asyncio.Queue[JobEvent | None],
        backlog: list[JobEvent],
        last_event_id: int,
    ) -> AsyncIterator[JobEvent | None]:
        events = self._events_of(job_uuid, queue, backlog, last_event_id)
        # A stream that is dropped before it starts (its client left) never runs its finally.
        weakref.finalize(events, self._hub.close, job_uuid, queue)
        return events

    async def _events_of(
        self,
        job_uuid: uuid.UUID,
        queue: asyncio.Queue[JobEvent | None],
        backlog: list[JobEvent],
        last_event_id: int,
    ) -> AsyncIterator[JobEvent | None]:
        """follow()'s loop over `queue` (a subscription it closes at the end), after the
        events already read (`backlog`)."""
        try:
            last = last_event_id
            while True:
                for event in backlog:
                    if event.id <= last and not event.terminal:
                        continue
                    last = max(last, event.id)
                    yield event
                    if event.terminal:
                        return
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=self._resync_seconds)
                except TimeoutError:
                    yield None
                    item = RESYNC
                if item is RESYNC:
                    backlog = await self._store.events_after(job_uuid, last)
                else:
                    backlog = [item]
        finally:
            self._hub.close(job_uuid, queue)
