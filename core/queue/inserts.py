"""Writing new jobs: one statement, its 'queued' events handed to the hub, this replica's
claimers woken at once.

Once started, single jobs without an idempotency key that are submitted while an insert is in
flight share the next one (one statement, commit and NOTIFY, at most SHARED_INSERT_JOBS); an
idle core writes at once. When Postgres refuses the data of a shared statement, each job is
written alone, so one caller's bad job fails only that caller.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections import Counter
from collections.abc import Callable, Sequence

from core.errors import InvalidInput
from core.events.hub import EventHub
from core.queue import metrics
from core.queue.models import Job, NewJob
from core.queue.store import JobStore
from serving.coalescing import Coalescer

SHARED_INSERT_JOBS = 64

Settle = Callable[[list[Job], dict[str, Job]], None]


class JobInserts:
    def __init__(self, store: JobStore, hub: EventHub, kind_labels: metrics.KindLabels) -> None:
        self._store = store
        self._hub = hub
        self._kind_labels = kind_labels
        self._shared: Coalescer[NewJob, Job | Exception] = Coalescer(
            self._insert_shared, name="queue-inserts", max_batch=SHARED_INSERT_JOBS
        )
        self._sharing = False

    def start(self) -> asyncio.Task[None]:
        """Starts sharing inserts; returns the task that writes them (for the process to
        watch). Without it every insert is a statement of its own."""
        self._sharing = True
        return self._shared.start()

    async def stop(self) -> None:
        """Stops sharing; callers first wait for every insert they started."""
        self._sharing = False
        await self._shared.stop()

    @property
    def unanswered(self) -> int:
        """Single jobs waiting for their shared insert (queued for it, or in it)."""
        return self._shared.unanswered

    async def insert_one(self, job: NewJob) -> Job:
        """A job without an idempotency key, written (shared with others once started)."""
        if not self._sharing:
            return (await self.insert([job]))[0]
        written = await self._shared.submit(job)
        if isinstance(written, Exception):
            raise written
        return written

    async def insert(self, new: Sequence[NewJob], *, settle: Settle | None = None) -> list[Job]:
        """Writes `new` in one statement (see JobStore.insert_jobs for `settle`); returns the
        jobs inserted."""
        with self._hub.writing():
            inserted, events = await self._store.insert_jobs(new, settle=settle)
            self._hub.deliver(events)
            # This replica's claimers now, other replicas' through the NOTIFY, which then wakes
            # no claimer here a second time.
            self._hub.woke_locally(events)
            for kind, count in Counter(j.kind for j in inserted).items():
                self._hub.claimers.wake(frozenset({kind}), count)
                metrics.JOBS_SUBMITTED.labels(self._kind_labels.label(kind)).inc(count)
        return inserted

    async def _insert_shared(self, new: list[NewJob]) -> list[Job | Exception]:
        """One statement for the single jobs of several callers, each answered with its job;
        when Postgres refuses its data, each job alone. Any other error fails them all."""
        new = [n if n.id else dataclasses.replace(n, id=uuid.uuid4()) for n in new]
        try:
            by_id = {job.id: job for job in await self.insert(new)}
            return [by_id[n.id] for n in new]
        except InvalidInput:
            if len(new) == 1:
                raise
        answers: list[Job | Exception] = []
        for one in new:
            try:
                answers.extend(await self.insert([one]))
            except InvalidInput as exc:
                answers.append(exc)
        return answers
