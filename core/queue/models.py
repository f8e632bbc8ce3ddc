"""What the queue stores and hands out, as plain frozen dataclasses built from rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

QUEUED, RUNNING, DONE, ERROR, CANCELED = "queued", "running", "done", "error", "canceled"
STATUSES = (QUEUED, RUNNING, DONE, ERROR, CANCELED)
# Also the event types that end a job's stream (an event is named by the status it sets).
TERMINAL_STATUSES = frozenset({DONE, ERROR, CANCELED})


@dataclass(frozen=True, slots=True)
class Job:
    id: uuid.UUID
    kind: str
    payload: dict[str, Any]
    priority: int
    source: str | None
    status: str
    attempts: int
    max_attempts: int
    lease_until: datetime | None
    lease_token: uuid.UUID | None
    deadline_at: datetime | None
    run_after: datetime
    worker_id: str | None
    result: Any
    metrics: Any
    error: str | None
    idempotency_key: str | None
    provider: str | None
    model: str | None
    device_id: str | None
    cancel_requested: bool
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Job:
        return cls(**{name: row[name] for name in _JOB_FIELDS})

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES


_JOB_FIELDS = tuple(Job.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class JobFallback:
    """The cloud job a device-bound job becomes when its devices fail (written with it)."""

    kind: str
    provider: str
    model: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NewJob:
    """A job to enqueue, already validated."""

    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    priority: int = 0
    source: str | None = None
    max_attempts: int = 3
    deadline_at: datetime | None = None
    idempotency_key: str | None = None
    run_after: datetime | None = None
    provider: str | None = None
    model: str | None = None
    device_id: str | None = None
    # Devices a device-bound job may run on, best first; the claim binds it (db/init/003).
    device_candidates: tuple[str, ...] | None = None
    fallback: JobFallback | None = None
    # Chosen by the caller when it follows the job from before it exists (QueueService.watch).
    id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class ProgressAdded:
    event: JobEvent
    # The job's cancellation was asked for: its worker stops now, not at its next heartbeat.
    canceled: bool


@dataclass(frozen=True, slots=True)
class SubmitResult:
    job: Job
    created: bool


@dataclass(frozen=True, slots=True)
class JobEvent:
    id: int
    job_id: uuid.UUID
    type: str
    data: dict[str, Any]
    created_at: datetime
    # The job as the terminal event left it, when the statement that wrote the event returned
    # it (this replica finished the job): followers need not read it again.
    job: Job | None = None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> JobEvent:
        return cls(
            id=row["id"],
            job_id=row["job_id"],
            type=row["type"],
            data=row["data"],
            created_at=row["created_at"],
        )

    @classmethod
    def of_job_row(cls, row: asyncpg.Record) -> JobEvent:
        """From a row of a job with the event its statement wrote (event_id, event_type, ...);
        a terminal event carries the job."""
        event_type = row["event_type"]
        return cls(
            id=row["event_id"],
            job_id=row["id"],
            type=event_type,
            data=row["event_data"],
            created_at=row["event_created_at"],
            job=Job.from_row(row) if event_type in TERMINAL_STATUSES else None,
        )

    @property
    def terminal(self) -> bool:
        return self.type in TERMINAL_STATUSES


@dataclass(frozen=True, slots=True)
class Claimed:
    """What a claim took: the jobs, their 'running' events, and whether due device-bound jobs
    were left for want of a free device slot."""

    jobs: list[Job]
    events: list[JobEvent]
    devices_busy: bool = False
    # From the ordinary claim: whether it looked at the queue it left (see job_claim), then
    # seconds until the next job is due (None: none queued) and whether device-bound jobs are.
    probed: bool = False
    due_in: float | None = None
    bound_due: bool = False

    @classmethod
    def of_probed_rows(cls, rows: list[asyncpg.Record]) -> Claimed:
        """From job_claim's rows: one per job, each with the probe (or the probe alone)."""
        taken = [r for r in rows if r["id"] is not None]
        first = rows[0] if rows else None
        return cls(
            [Job.from_row(r) for r in taken],
            [JobEvent.of_job_row(r) for r in taken],
            probed=bool(first and first["probed"]),
            due_in=first["probe_wait_seconds"] if first else None,
            bound_due=bool(first and first["probe_bound_due"]),
        )


@dataclass(frozen=True, slots=True)
class Completion:
    """One worker's report that a job finished."""

    job_id: uuid.UUID
    worker_id: str
    lease_token: uuid.UUID | None
    result: Any
    metrics: Any = None
    # The end of the job's stream, written as a progress event just before the terminal one.
    progress: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class HeartbeatResult:
    lease_until: datetime | None
    canceled: bool


@dataclass(frozen=True, slots=True)
class FailResult:
    status: str
    run_after: datetime | None


@dataclass(frozen=True, slots=True)
class WorkerRegistration:
    id: str
    name: str | None = None
    platform: str | None = None
    arch: str | None = None
    host: str | None = None
    tags: dict[str, Any] = field(default_factory=dict)
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class JobPage:
    jobs: list[Job]
    next_cursor: str | None
