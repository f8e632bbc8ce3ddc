"""The queue's rules: what HTTP and gRPC both call. No SQL here (see store.py)."""

from __future__ import annotations

import asyncio
import base64
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from core.errors import (
    IdempotencyConflict,
    InvalidInput,
    JobFinished,
    JobNotFound,
    LeaseLost,
)
from core.events.hub import EventHub
from core.queue import metrics
from core.queue.backoff import retry_delay
from core.queue.claims import ClaimSpec, SharedClaims
from core.queue.completions import SharedCompletions
from core.queue.following import JobFollowing
from core.queue.ids import parse_job_id, parse_lease_token
from core.queue.inserts import JobInserts
from core.queue.models import (
    CANCELED,
    Claimed,
    Completion,
    FailResult,
    HeartbeatResult,
    Job,
    JobPage,
    NewJob,
    ProgressAdded,
    SubmitResult,
    WorkerRegistration,
)
from core.queue.schemas import (
    ClaimRequest,
    CompleteRequest,
    FailRequest,
    HeartbeatRequest,
    JobCreate,
    ProgressRequest,
    WorkerRegister,
    check_batch,
)
from core.queue.store import JobStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueueConfig:
    retry_base_seconds: float = 1.0
    retry_cap_seconds: float = 300.0
    # A stream with nothing new re-reads the database this often, in case a notification was lost.
    stream_resync_seconds: float = 15.0


def encode_cursor(job: Job) -> str:
    raw = f"{job.queued_at.isoformat()}|{job.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        at, _, job_id = raw.partition("|")
        return datetime.fromisoformat(at), uuid.UUID(job_id)
    except ValueError:
        raise InvalidInput("cursor is not one this server handed out") from None


class QueueHooks(Protocol):
    """What routing adds to the queue: admission of new jobs, the claim of device-bound kinds
    (per-device concurrency), and learning from finished jobs."""

    device_kinds: frozenset[str]

    async def admit(self, jobs: list[NewJob]) -> list[NewJob]: ...

    async def claim_device_jobs(
        self, *, worker_id: str, kinds: list[str], lease_seconds: float, max_jobs: int
    ) -> Claimed: ...

    async def completed(self, completions: Sequence[Completion], statuses: dict) -> None: ...

    async def failed(self, job: Job, *, error: str, counts: bool, status: str) -> str | None:
        """A running job failed (`counts`: retryable, not a release); `status` is where it went.
        Returns a job kind that became claimable by failing over (its NOTIFY wakes claimers)."""
        ...


def _submit_results(
    new: Sequence[NewJob], inserted: list[Job], existing: dict[str, Job]
) -> list[SubmitResult]:
    """One result per submitted job; IdempotencyConflict when a key names a different job
    (an earlier one, or another item of the same batch)."""
    by_key = {j.idempotency_key: j for j in inserted if j.idempotency_key}
    fresh = iter(j for j in inserted if not j.idempotency_key)
    results: list[SubmitResult] = []
    for n in new:
        if n.idempotency_key is None:
            results.append(SubmitResult(next(fresh), created=True))
            continue
        job = by_key.get(n.idempotency_key) or existing[n.idempotency_key]
        if job.kind != n.kind or job.payload != n.payload:
            raise IdempotencyConflict(
                f"idempotency key {n.idempotency_key!r} was used for job {job.id} "
                "with a different kind or payload"
            )
        results.append(SubmitResult(job, created=n.idempotency_key in by_key))
    return results


# How often a claim blocked only by busy devices looks again (a slot freed on another replica).
DEVICE_RECHECK_SECONDS = 0.25
# How long a claim trusts that the queue is still empty for its kinds, when the last claim
# found it so and no wake-up came since (a job written without an event wakes nobody).
DRAINED_TRUSTED_SECONDS = 1.0


@dataclass(frozen=True)
class Drained:
    """A claim of some kinds left nothing claimable: at wake-up `generation`, until `until`
    (loop time: the next delayed job's due time, or DRAINED_TRUSTED_SECONDS)."""

    generation: int
    until: float


class QueueService:
    def __init__(
        self,
        store: JobStore,
        hub: EventHub,
        config: QueueConfig | None = None,
        *,
        hooks: QueueHooks | None = None,
    ) -> None:
        self._store = store
        self._hub = hub
        self._config = config or QueueConfig()
        self._hooks = hooks
        self._kind_labels = metrics.KindLabels()
        # Whether the last device claim left due device-bound jobs for want of a free slot:
        # only then does a finished job wake device claimers.
        self._devices_busy = False
        # By kinds claimed: the queue was left empty and no wake-up came since, so the next
        # claim (a worker's long-poll right after its last batch) waits before it looks.
        self._drained: dict[frozenset[str], Drained] = {}
        self.following = JobFollowing(store, hub, resync_seconds=self._config.stream_resync_seconds)
        self._inserts = JobInserts(store, hub, self._kind_labels)
        self._completions = SharedCompletions(self.complete_many)
        self._claims = SharedClaims(store, hub)

    def start(self) -> list[asyncio.Task[None]]:
        """From now on single submissions (no idempotency key), single completions and one
        worker's one-job claims that come while one of their kind is in flight share the next
        statement. Returns the tasks that write them (for the process to watch)."""
        self._claims.start()
        return [self._inserts.shared.start(), self._completions.shared.start()]

    def unanswered(self, writes: Literal["inserts", "completions", "claims"]) -> int:
        """Single submissions, single completions or claims waiting for their shared statement
        (queued for it, or in it)."""
        if writes == "claims":
            return self._claims.unanswered
        return (self._inserts if writes == "inserts" else self._completions).shared.unanswered

    async def stop(self) -> None:
        """Stops sharing; callers first wait for every enqueue, completion and claim they
        started."""
        await self._inserts.shared.stop()
        await self._completions.shared.stop()
        await self._claims.stop()

    # -- clients -----------------------------------------------------------------

    async def submit(self, requests: Sequence[JobCreate]) -> list[SubmitResult]:
        """Enqueues jobs; a known idempotency key answers with the existing job (created=False).

        Raises IdempotencyConflict when a key is reused for a different kind or payload, and
        InvalidInput for a batch of 0 or more than MAX_BATCH jobs.
        """
        check_batch(len(requests))
        new = [NewJob(**r.model_dump()) for r in requests]
        if self._hooks is not None:
            new = await self._hooks.admit(new)
        return await self.enqueue(new)

    async def enqueue(self, new: Sequence[NewJob]) -> list[SubmitResult]:
        """Enqueues already admitted jobs (see submit); a conflict writes nothing."""
        if len(new) == 1 and new[0].idempotency_key is None:
            return [SubmitResult(await self._inserts.insert_one(new[0]), created=True)]
        results: list[SubmitResult] = []

        def settle(inserted: list[Job], existing: dict[str, Job]) -> None:
            results.extend(_submit_results(new, inserted, existing))

        await self._inserts.insert(new, settle=settle)
        return results

    async def get(self, job_id: str | uuid.UUID) -> Job:
        job_uuid = parse_job_id(job_id)
        job = await self._store.get(job_uuid)
        if job is None:
            raise JobNotFound(job_id)
        return job

    async def list_jobs(
        self,
        *,
        status: str | None = None,
        kind: str | None = None,
        source: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> JobPage:
        after = decode_cursor(cursor) if cursor else None
        jobs = await self._store.list(
            status=status, kind=kind, source=source, after=after, limit=limit + 1
        )
        more = len(jobs) > limit
        jobs = jobs[:limit]
        return JobPage(jobs=jobs, next_cursor=encode_cursor(jobs[-1]) if more else None)

    async def cancel(self, job_id: str | uuid.UUID) -> Job:
        """Queued: canceled now. Running: canceled at its worker's next heartbeat.

        Canceling a canceled job answers with it; a done or failed job raises JobFinished.
        """
        job_uuid = parse_job_id(job_id)
        job = await self._store.cancel(job_uuid)
        if job is not None:
            return job
        job = await self.get(job_uuid)
        if job.status == CANCELED or (job.cancel_requested and not job.finished):
            return job
        raise JobFinished(f"job {job.id} already finished with status {job.status}")

    # -- workers -----------------------------------------------------------------

    async def register_worker(self, request: WorkerRegister) -> None:
        await self._store.upsert_worker(WorkerRegistration(**request.model_dump()))
        self._kind_labels.offer(request.kinds)

    async def claim(self, request: ClaimRequest) -> list[Job]:
        """Claims up to max_jobs jobs, long-polling up to wait_seconds for the first one.

        The wait is woken by new work of these kinds (the NOTIFY of the statement that queued
        it, from any replica) or when a delayed retry becomes due.
        """
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + request.wait_seconds
        kinds = frozenset(request.kinds)
        self._kind_labels.offer(kinds)
        device_kinds = sorted(kinds & self._hooks.device_kinds) if self._hooks else []
        spec = ClaimSpec(
            worker_id=request.worker_id,
            kinds=kinds,
            lease_seconds=request.lease_seconds,
            device_kinds=tuple(device_kinds),
            # Device-bound jobs may wait even when it found others: their claim (a locked
            # transaction) runs only when the probe says so.
            probe_when_found=bool(device_kinds),
        )
        claimers = self._hub.claimers
        drained = self._drained.get(kinds)
        while True:
            with claimers.waiting(kinds) as woken:
                now = loop.time()
                remaining = give_up_at - now
                if (
                    drained is not None
                    and drained.generation == claimers.generation
                    and now < drained.until
                    and remaining > 0
                    and not claimers.closed
                ):
                    # Nothing came since the queue was left empty: wait before looking.
                    await claimers.sleep(woken, min(remaining, drained.until - now))
                    drained = None
                    continue
                drained = None
                generation = claimers.generation
                claimed = await self._claims.claim(spec, request.max_jobs)
                jobs = claimed.jobs
                due_in, bound_due = claimed.due_in, claimed.bound_due
                if claimed.probed:
                    room = request.max_jobs - len(jobs)
                    bound: Claimed | None = None
                    if bound_due and self._hooks is not None:
                        with self._hub.writing():
                            bound = await self._hooks.claim_device_jobs(
                                worker_id=request.worker_id,
                                kinds=device_kinds,
                                lease_seconds=request.lease_seconds,
                                max_jobs=room,
                            )
                            self._hub.deliver(bound.events)
                        jobs = jobs + bound.jobs
                    if device_kinds:
                        self._devices_busy = bound is not None and bound.devices_busy
                    if not bound_due and (due_in is None or due_in > 0):
                        self._note_drained(kinds, generation, due_in)
                remaining = give_up_at - loop.time()
                if not jobs and remaining > 0 and not claimers.closed:
                    timeout = remaining if due_in is None else min(remaining, max(due_in, 0.05))
                    if bound_due:
                        # Due jobs left unclaimed: their devices are busy until one frees a slot.
                        timeout = min(remaining, DEVICE_RECHECK_SECONDS)
                    await claimers.sleep(woken, timeout)
                    continue
            for job in jobs:
                metrics.JOBS_CLAIMED.labels(self._kind_labels.label(job.kind)).inc()
            if len(jobs) == request.max_jobs:
                # There may be more: pass the wake-up on to the next waiting claimer.
                claimers.wake(kinds, 1)
            return jobs

    def _note_drained(self, kinds: frozenset[str], generation: int, due_in: float | None) -> None:
        """A claim of `kinds` that began at wake-up `generation` left nothing claimable; the
        next queued job of these kinds (if any) is due in `due_in` seconds."""
        trusted = (
            DRAINED_TRUSTED_SECONDS if due_in is None else min(due_in, DRAINED_TRUSTED_SECONDS)
        )
        if len(self._drained) > 256:  # kinds sets of custom executors: keep it small
            self._drained.clear()
        until = asyncio.get_running_loop().time() + trusted
        self._drained[kinds] = Drained(generation, until)

    def _slots_freed(self, count: int = 1) -> None:
        """`count` jobs left running: as many device slots may be free for claimers of
        device-bound jobs, if the last device claim left due jobs for want of a slot. One
        waiter per slot; such a claimer re-checks within DEVICE_RECHECK_SECONDS anyway (a
        slot freed on another replica)."""
        if self._hooks is not None and self._devices_busy:
            self._hub.claimers.wake(self._hooks.device_kinds, count)

    async def heartbeat(self, request: HeartbeatRequest) -> HeartbeatResult:
        """Extends the lease; `canceled` tells the worker to stop. Raises LeaseLost/JobNotFound."""
        job_id = parse_job_id(request.job_id)
        row = await self._store.heartbeat(
            job_id=job_id,
            worker_id=request.worker_id,
            lease_token=parse_lease_token(request.lease_token),
            extend_seconds=request.extend_seconds,
        )
        if row is None:
            raise await self._lease_error(job_id, request.worker_id)
        return HeartbeatResult(lease_until=row["lease_until"], canceled=row["status"] == CANCELED)

    async def complete(self, request: CompleteRequest) -> str:
        """Finishes the job; returns its status (done, or canceled when a cancel came first)."""
        status = await self._completions.complete_one(request)
        if status is None:  # counted as a refusal by complete_many
            job_id = parse_job_id(request.job_id)
            raise await self._lease_error(job_id, request.worker_id, count=False)
        return status

    async def complete_many(self, requests: Sequence[CompleteRequest]) -> list[str | None]:
        """One status per request, None where the lease was not held (that item changed nothing).

        A job named twice is completed once: its first item; later ones answer None. InvalidInput
        for a batch of 0 or more than MAX_BATCH."""
        check_batch(len(requests), "completions")
        all_items = [
            Completion(
                job_id=parse_job_id(r.job_id),
                worker_id=r.worker_id,
                lease_token=parse_lease_token(r.lease_token),
                result=r.result,
                metrics=r.metrics,
                progress=r.progress,
            )
            for r in requests
        ]
        firsts: dict[uuid.UUID, int] = {}
        for i, c in enumerate(all_items):
            firsts.setdefault(c.job_id, i)
        completions = [all_items[i] for i in firsts.values()]
        with self._hub.writing():
            written = await self._store.complete_many(completions)
            # This replica's followers of these jobs get the finished job with its event.
            self._hub.deliver(written)
        statuses = {e.job_id: e.type for e in written if e.terminal}
        for status in statuses.values():
            metrics.JOBS_FINISHED.labels(status).inc()
        if statuses and self._hooks is not None:
            self._slots_freed(len(statuses))
            try:
                await self._hooks.completed(completions, statuses)
            except Exception:
                log.exception("recording finished jobs' figures failed")
        if refused := sum(1 for c in completions if c.job_id not in statuses):
            metrics.LEASES_LOST.inc(refused)
        return [
            statuses.get(c.job_id) if firsts[c.job_id] == i else None
            for i, c in enumerate(all_items)
        ]

    async def fail(self, request: FailRequest) -> FailResult:
        """Retry later (status queued) while retryable and attempts remain, else error."""
        job_id = parse_job_id(request.job_id)
        job = await self._store.get(job_id)
        if job is None:
            raise JobNotFound(job_id)
        delay = request.retry_after
        if delay is None:
            delay = retry_delay(
                max(job.attempts, 1),
                base_seconds=self._config.retry_base_seconds,
                cap_seconds=self._config.retry_cap_seconds,
            )
        row = await self._store.fail(
            job_id=job_id,
            worker_id=request.worker_id,
            lease_token=parse_lease_token(request.lease_token),
            error=request.error,
            metrics=request.metrics,
            retryable=request.retryable,
            retry_delay=delay,
            release=request.release,
        )
        if row is None:
            raise await self._lease_error(job_id, request.worker_id)
        self._slots_freed()
        metrics.JOBS_FINISHED.labels("retry" if row["status"] == "queued" else row["status"]).inc()
        # A job back in the queue (a retry, a failover) wakes its claimers by its 'retry'
        # event's NOTIFY.
        if self._hooks is not None:
            try:
                await self._hooks.failed(
                    job,
                    error=request.error,
                    counts=request.retryable and not request.release,
                    status=row["status"],
                )
            except Exception:
                log.exception("failover of a failed job failed", extra={"job_id": str(job_id)})
        return FailResult(
            status=row["status"], run_after=row["run_after"] if row["status"] == "queued" else None
        )

    async def add_progress(self, request: ProgressRequest) -> ProgressAdded:
        """The event written, and whether the job's cancellation was asked for."""
        job_id = parse_job_id(request.job_id)
        with self._hub.writing():
            added = await self._store.add_progress(
                job_id=job_id,
                worker_id=request.worker_id,
                lease_token=parse_lease_token(request.lease_token),
                data=request.data,
            )
            if added is not None:
                self._hub.deliver([added.event])
        if added is None:
            raise await self._lease_error(job_id, request.worker_id)
        return added

    async def add_progress_many(
        self, requests: Sequence[ProgressRequest]
    ) -> list[ProgressAdded | Exception]:
        """add_progress for several jobs in one statement (a busy worker's streams): one
        answer per request, in order, the error where its job is not running under that lease.
        InvalidInput for a batch of 0 or more than MAX_BATCH, or one naming a job twice (its
        reports would race; a worker sends one report of a job at a time)."""
        check_batch(len(requests), "progress reports")
        items = [
            (parse_job_id(r.job_id), r.worker_id, parse_lease_token(r.lease_token), r.data)
            for r in requests
        ]
        if len({job_id for job_id, _, _, _ in items}) != len(items):
            raise InvalidInput("a batch of progress reports names a job twice")
        with self._hub.writing():
            added = await self._store.add_progress_many(items)
            self._hub.deliver([a.event for a in added.values()])
        return [
            added.get(job_id) or await self._lease_error(job_id, worker_id)
            for job_id, worker_id, _, _ in items
        ]

    async def _lease_error(
        self, job_id: uuid.UUID, worker_id: str, *, count: bool = True
    ) -> Exception:
        job = await self._store.get(job_id)
        if job is None:
            return JobNotFound(job_id)
        if count:
            metrics.LEASES_LOST.inc()
        if job.status == "running":
            # The holder is not named: a worker token must not learn who else runs jobs.
            return LeaseLost(f"job {job_id} is running under another lease; drop it")
        return LeaseLost(f"job {job_id} is {job.status}; this worker holds no lease on it")
