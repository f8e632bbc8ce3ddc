"""All SQL of the job queue. The only module of the queue that imports asyncpg.

Returns our types (core.queue.models) and raises our errors (core.errors);
driver errors are translated here and nowhere else.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from core.costs.pricing import LOCAL_PROVIDERS, usage_of
from core.db.queries import load_queries
from core.db.store import PoolStore
from core.queue.models import (
    Claimed,
    Completion,
    Job,
    JobEvent,
    NewJob,
    ProgressAdded,
    WorkerRegistration,
)

Q = load_queries(Path(__file__).with_name("jobs.sql"))


class JobStore(PoolStore):
    async def insert_jobs(
        self,
        jobs: Sequence[NewJob],
        *,
        settle: Callable[[list[Job], dict[str, Job]], None] | None = None,
    ) -> tuple[list[Job], list[JobEvent]]:
        """Inserts jobs; ones whose idempotency key already exists are skipped (not returned).
        Returns the inserted jobs and their 'queued' events.

        `settle(inserted, existing by key)` runs in the same transaction: whatever it raises
        rolls the whole insert back, so a refused batch writes nothing.
        """
        ids = [j.id or uuid.uuid4() for j in jobs]
        # Only an idempotency key can make `settle` refuse the batch; without one the single
        # statement is atomic by itself and BEGIN/COMMIT would only add round trips.
        atomic = any(j.idempotency_key for j in jobs)
        async with self._conn() as conn:
            async with conn.transaction() if atomic else contextlib.nullcontext():
                rows = await conn.fetch(
                    Q["job_insert_many"],
                    ids,
                    [j.kind for j in jobs],
                    [j.payload for j in jobs],
                    [j.priority for j in jobs],
                    [j.source for j in jobs],
                    [j.max_attempts for j in jobs],
                    [j.deadline_at for j in jobs],
                    [j.idempotency_key for j in jobs],
                    [j.run_after for j in jobs],
                    [j.provider for j in jobs],
                    [j.model for j in jobs],
                    [j.device_id for j in jobs],
                    # JSON text: asyncpg would read a list of lists as a 2-D array.
                    [
                        json.dumps(list(j.device_candidates)) if j.device_candidates else None
                        for j in jobs
                    ],
                    # The cloud fallbacks, written by the same statement as their jobs.
                    [j.fallback.kind if j.fallback else None for j in jobs],
                    [j.fallback.provider if j.fallback else None for j in jobs],
                    [j.fallback.model if j.fallback else None for j in jobs],
                    [j.fallback.payload if j.fallback else None for j in jobs],
                )
                by_id = {r["id"]: Job.from_row(r) for r in rows}
                inserted = [by_id[i] for i in ids if i in by_id]
                if settle is not None:
                    keys = {j.idempotency_key for j in inserted if j.idempotency_key}
                    missing = [
                        j.idempotency_key
                        for j in jobs
                        if j.idempotency_key and j.idempotency_key not in keys
                    ]
                    existing: dict[str, Job] = {}
                    if missing:
                        found = await conn.fetch(Q["job_get_by_idempotency_keys"], missing)
                        existing = {r["idempotency_key"]: Job.from_row(r) for r in found}
                    settle(inserted, existing)
        return inserted, [JobEvent.of_job_row(r) for r in rows]

    async def get(self, job_id: uuid.UUID) -> Job | None:
        async with self._conn() as conn:
            row = await conn.fetchrow(Q["job_get"], job_id)
        return Job.from_row(row) if row else None

    async def list(
        self,
        *,
        status: str | None,
        kind: str | None,
        source: str | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[Job]:
        async with self._conn() as conn:
            rows = await conn.fetch(
                Q["job_list"],
                status,
                kind,
                source,
                after[0] if after else None,
                after[1] if after else None,
                limit,
            )
        return [Job.from_row(r) for r in rows]

    async def claim(
        self,
        *,
        worker_id: str,
        kinds: Sequence[str],
        lease_seconds: float,
        max_jobs: int,
        device_kinds: Sequence[str] = (),
        probe_when_found: bool = False,
    ) -> Claimed:
        """Claims jobs of `kinds`; of `device_kinds` only those bound to no device. When the
        batch is not full, and it took nothing or `probe_when_found`, the answer also says
        what is left (Claimed.probed, due_in, bound_due)."""
        async with self._conn() as conn:
            rows = await conn.fetch(
                Q["job_claim"],
                list(kinds),
                max_jobs,
                float(lease_seconds),
                worker_id,
                list(device_kinds),
                probe_when_found,
                None,  # from the queue, not jobs chosen by the device claim
                None,
                None,
            )
        return Claimed.of_probed_rows(rows)

    async def heartbeat(
        self,
        *,
        job_id: uuid.UUID,
        worker_id: str,
        lease_token: uuid.UUID | None,
        extend_seconds: float,
    ) -> asyncpg.Record | None:
        """The job's (status, lease_until) after the beat; None when the lease is not held."""
        async with self._conn() as conn:
            return await conn.fetchrow(
                Q["job_heartbeat"], job_id, worker_id, lease_token, float(extend_seconds)
            )

    async def complete_many(self, completions: Sequence[Completion]) -> list[JobEvent]:
        """Finishes the jobs whose lease is still held, recording the cost of each that
        finished done; returns their events in order: a job's last progress (when its
        completion carried one), then its terminal event with the finished job."""
        usages = [usage_of(c.metrics) for c in completions]
        async with self._conn() as conn:
            rows = await conn.fetch(
                Q["job_complete_many"],
                [c.job_id for c in completions],
                [c.worker_id for c in completions],
                [c.lease_token for c in completions],
                [c.result for c in completions],
                [c.metrics for c in completions],
                [u.provider if u else None for u in usages],
                [u.model if u else None for u in usages],
                [u.tokens_in if u else None for u in usages],
                [u.tokens_out if u else None for u in usages],
                list(LOCAL_PROVIDERS),
                [c.progress for c in completions],
            )
        events: list[JobEvent] = []
        for row in rows:
            if row["progress_id"] is not None:
                events.append(
                    JobEvent(
                        id=row["progress_id"],
                        job_id=row["id"],
                        type="progress",
                        data=row["progress_data"],
                        created_at=row["progress_created_at"],
                    )
                )
            events.append(JobEvent.of_job_row(row))
        return events

    async def fail(
        self,
        *,
        job_id: uuid.UUID,
        worker_id: str,
        lease_token: uuid.UUID | None,
        error: str,
        metrics: Any,
        retryable: bool,
        retry_delay: float,
        release: bool,
    ) -> asyncpg.Record | None:
        """The job's (status, run_after) after the failure; None when the lease is not held."""
        async with self._conn() as conn:
            return await conn.fetchrow(
                Q["job_fail"],
                job_id,
                worker_id,
                lease_token,
                error,
                metrics,
                retryable,
                float(retry_delay),
                release,
            )

    async def cancel(self, job_id: uuid.UUID) -> Job | None:
        """The job after the cancel; None when it was not queued or running (or is unknown)."""
        async with self._conn() as conn:
            row = await conn.fetchrow(Q["job_cancel"], job_id)
        return Job.from_row(row) if row else None

    async def requeue_expired_leases(self, *, batch: int) -> int:
        async with self._conn() as conn:
            return await conn.fetchval(Q["job_requeue_expired_leases"], batch)

    async def fail_past_deadline(self, *, batch: int) -> int:
        async with self._conn() as conn:
            return await conn.fetchval(Q["job_fail_past_deadline"], batch)

    async def delete_finished_before(self, *, age_seconds: float, batch: int) -> int:
        async with self._conn() as conn:
            status = await conn.execute(Q["job_delete_finished_before"], float(age_seconds), batch)
        return int(status.split()[-1])

    async def events_after(self, job_id: uuid.UUID, after_id: int) -> list[JobEvent]:
        async with self._conn() as conn:
            rows = await conn.fetch(Q["job_event_list_after"], job_id, after_id)
        return [JobEvent.from_row(r) for r in rows]

    async def get_with_events_after(
        self, job_id: uuid.UUID, after_id: int
    ) -> tuple[Job | None, list[JobEvent]]:
        """The job and its events after `after_id`, as one snapshot (a terminal event among
        them carries the job)."""
        async with self._conn() as conn:
            row = await conn.fetchrow(Q["job_get_with_events_after"], job_id, after_id)
        if row is None:
            return None, []
        job = Job.from_row(row)
        events = [
            JobEvent(
                id=e["id"],
                job_id=job.id,
                type=e["type"],
                data=e["data"],
                created_at=datetime.fromisoformat(e["created_at"]),
            )
            for e in row["events"]
        ]
        return job, [replace(e, job=job) if e.terminal else e for e in events]

    async def events_of_notifications(
        self, ranges: Sequence[tuple[int, int]], job_ids: Sequence[uuid.UUID]
    ) -> dict[int, list[JobEvent]]:
        """The events of `job_ids` that NOTIFYs announced, by the first id of each (first id,
        last id) range, oldest first; a range holds only the rows of the statement that sent
        it."""
        async with self._conn() as conn:
            rows = await conn.fetch(
                Q["job_event_list_of_notifications"],
                [first for first, _ in ranges],
                [last for _, last in ranges],
                list(job_ids),
            )
        events: dict[int, list[JobEvent]] = {}
        for row in rows:
            events.setdefault(row["notified_first_id"], []).append(JobEvent.from_row(row))
        return events

    async def add_progress(
        self,
        *,
        job_id: uuid.UUID,
        worker_id: str,
        lease_token: uuid.UUID | None,
        data: dict[str, Any],
    ) -> ProgressAdded | None:
        """The new event; None when the job is not running under this worker's lease."""
        async with self._conn() as conn:
            row = await conn.fetchrow(
                Q["job_event_insert_progress"], job_id, lease_token, data, worker_id
            )
        return ProgressAdded(JobEvent.from_row(row), row["cancel_requested"]) if row else None

    async def add_progress_many(
        self, items: Sequence[tuple[uuid.UUID, str, uuid.UUID | None, dict[str, Any]]]
    ) -> dict[uuid.UUID, ProgressAdded]:
        """The events written, by job, of (job id, worker id, lease token, data) items naming
        each job once; a job missing from the answer is not running under that lease."""
        async with self._conn() as conn:
            rows = await conn.fetch(
                Q["job_event_insert_progress_many"],
                [job_id for job_id, _, _, _ in items],
                [token for _, _, token, _ in items],
                [data for _, _, _, data in items],
                [worker_id for _, worker_id, _, _ in items],
            )
        return {
            row["job_id"]: ProgressAdded(JobEvent.from_row(row), row["cancel_requested"])
            for row in rows
        }

    async def upsert_worker(self, worker: WorkerRegistration) -> None:
        async with self._conn() as conn:
            await conn.execute(
                Q["worker_upsert"],
                worker.id,
                worker.name,
                worker.platform,
                worker.arch,
                worker.host,
                worker.tags,
                list(worker.kinds),
            )


async def claim_chosen(
    conn: asyncpg.Connection,
    *,
    job_ids: Sequence[uuid.UUID],
    device_ids: Sequence[str | None],
    device_fields: Sequence[dict[str, Any]],
    lease_seconds: float,
    worker_id: str,
) -> Claimed:
    """Claims the jobs the device claim chose under its lock, on its connection and in its
    transaction: job i is bound to device_ids[i] (None: keeps its own) and device_fields[i]
    is merged into its payload. The same statement as every other claim (job_claim)."""
    rows = await conn.fetch(
        Q["job_claim"],
        [],
        len(job_ids),
        float(lease_seconds),
        worker_id,
        [],
        False,
        list(job_ids),
        list(device_ids),
        list(device_fields),
    )
    return Claimed.of_probed_rows(rows)
