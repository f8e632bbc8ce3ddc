"""Shapes of what the HTTP API answers: the public Job (`proto/jobs.py`) of a queue Job, and a
job event as SSE frames carry it."""

from __future__ import annotations

from typing import Any

from core.queue.models import Job, JobEvent
from proto.jobs import event_json, view_of


def job_view(job: Job, *, with_lease: bool = False) -> dict[str, Any]:
    """The public view of `job`; with its lease token for the worker that claimed it."""
    return view_of(job, with_lease=with_lease)


def event_view(event: JobEvent, job: Job | None = None) -> dict[str, Any]:
    return event_json(
        id=event.id,
        job_id=str(event.job_id),
        type=event.type,
        data=event.data,
        created_at=event.created_at.isoformat() if event.created_at else None,
        job=view_of(job) if job is not None else None,
    )
