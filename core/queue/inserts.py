"""Writing new jobs: one statement, its 'queued' events handed to the hub, this replica's
claimers woken at once.

Once `shared` is started, single jobs without an idempotency key that are submitted while an
insert is in flight share the next one (one statement, commit and NOTIFY, at most
SHARED_INSERT_JOBS); an idle core writes at once. When Postgres refuses the data of a shared
statement, each job is written alone, so one caller's bad job fails only that caller.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from collections.abc import Callable, Sequence

from core.events.hub import EventHub
from core.queue import metrics
from core.queue.models import Job, NewJob
from core.queue.refused import each_alone_when_refused
from core.queue.store import JobStore
from serving.coalescing import Coalescer

SHARED_INSERT_JOBS = 64

Settle = Callable[[list[Job], dict[str, Job]], None]


class JobInserts:
    def __init__(self, store: JobStore, hub: EventHub, kind_labels: metrics.KindLabels) -> None:
        self._store = store
        self._hub = hub
        self._kind_labels = kind_labels
        # Writes single jobs (insert_one), shared with others once started.
        self.shared: Coalescer[NewJob, Job | Exception] = Coalescer(
            self._insert_shared, name="queue-inserts", max_batch=SHARED_INSERT_JOBS
        )

    async def insert_one(self, job: NewJob) -> Job:
        """A job without an idempotency key, written (shared with others once started)."""
        written = await self.shared.submit(job)
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
        """One statement for the single jobs of several callers, each answered with its own
        job; when Postgres refuses its data, each job alone."""
        new = [n if n.id else dataclasses.replace(n, id=uuid.uuid4()) for n in new]
        return list(await each_alone_when_refused(self._insert_in_order, new))

    async def _insert_in_order(self, new: list[NewJob]) -> list[Job]:
        by_id = {job.id: job for job in await self.insert(new)}
        return [by_id[n.id] for n in new]
