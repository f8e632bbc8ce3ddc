"""Core's HTTP shapes (core/http/views.py) rebuilt from the gRPC messages, so the bridge's JSON
and SSE frames read exactly like core's own."""

from __future__ import annotations

import json
from typing import Any

from proto import llm_pb2 as pb


def _text(value: str) -> str | None:
    return value or None


def _json(value: str) -> Any:
    return json.loads(value) if value else None


def job_view(job: pb.Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "payload": _json(job.payload_json) or {},
        "result": _json(job.result_json),
        "error": _text(job.error),
        "priority": job.priority,
        "source": _text(job.source),
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "worker_id": _text(job.worker_id),
        "provider": _text(job.provider),
        "model": _text(job.model),
        "device_id": _text(job.device_id),
        "metrics": _json(job.metrics_json),
        "idempotency_key": _text(job.idempotency_key),
        "cancel_requested": job.cancel_requested,
        "queued_at": _text(job.queued_at),
        "run_after": _text(job.run_after),
        "started_at": _text(job.started_at),
        "finished_at": _text(job.finished_at),
        "updated_at": _text(job.updated_at),
        "deadline_at": _text(job.deadline_at),
        "lease_until": _text(job.lease_until),
    }


def event_view(event: pb.JobEvent) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": event.id,
        "job_id": event.job_id,
        "type": event.type,
        "data": _json(event.data_json),
        "created_at": _text(event.created_at),
    }
    if event.HasField("job"):
        view["job"] = job_view(event.job)
    return view
