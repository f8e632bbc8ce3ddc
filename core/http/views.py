"""Shapes of what the HTTP API answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.queue.models import Job, JobEvent


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def job_view(job: Job, *, with_lease: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": str(job.id),
        "kind": job.kind,
        "status": job.status,
        "payload": job.payload,
        "result": job.result,
        "error": job.error,
        "priority": job.priority,
        "source": job.source,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "worker_id": job.worker_id,
        "provider": job.provider,
        "model": job.model,
        "device_id": job.device_id,
        "metrics": job.metrics,
        "idempotency_key": job.idempotency_key,
        "cancel_requested": job.cancel_requested,
        "queued_at": _ts(job.queued_at),
        "run_after": _ts(job.run_after),
        "started_at": _ts(job.started_at),
        "finished_at": _ts(job.finished_at),
        "updated_at": _ts(job.updated_at),
        "deadline_at": _ts(job.deadline_at),
        "lease_until": _ts(job.lease_until),
    }
    if with_lease:
        view["lease_token"] = str(job.lease_token) if job.lease_token else None
    return view


def event_view(event: JobEvent, job: Job | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": event.id,
        "job_id": str(event.job_id),
        "type": event.type,
        "data": event.data,
        "created_at": _ts(event.created_at),
    }
    if job is not None:
        view["job"] = job_view(job)
    return view
