"""The public Job, written once: the JSON that core's HTTP API, its SSE frames and the bridge
answer with (`JobView`), and the gRPC `Job` message built from and read back into the same
fields.

Core builds it from its queue's Job (`JobView.of`), the gRPC face sends it (`to_pb`), the bridge
reads it back (`JobView.from_pb`): the field list, their order and which are null live here only.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from proto import llm_pb2 as pb

Status = Literal["queued", "running", "done", "error", "canceled"]

# Fields that travel as JSON text in the gRPC message (`<name>_json`).
_JSON_FIELDS = ("payload", "result", "metrics")
# Fields that are RFC 3339 text (or null) in every shape.
_TIMESTAMPS = (
    "queued_at",
    "run_after",
    "started_at",
    "finished_at",
    "updated_at",
    "deadline_at",
    "lease_until",
)
# Fields held as other types (UUIDs, datetimes) by core, text in every shape.
_AS_TEXT = frozenset({"id", "lease_token", *_TIMESTAMPS})


def _dumps(value: Any) -> str:
    return "" if value is None else json.dumps(value, separators=(",", ":"))


def _loads(value: str) -> Any:
    return json.loads(value) if value else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


class JobView(BaseModel):
    """A job as GET /v1/jobs/{id} answers it."""

    id: str
    kind: str
    status: Status
    payload: dict[str, Any]
    result: Any = Field(None, description="the handler's result once done, e.g. {data: ...}")
    error: str | None = None
    priority: int
    source: str | None = None
    attempts: int
    max_attempts: int
    worker_id: str | None = None
    provider: str | None = None
    model: str | None = None
    device_id: str | None = None
    metrics: dict[str, Any] | None = Field(
        None, description="tokens_in, tokens_out, latency_ms, tps, provider, model, device_id"
    )
    idempotency_key: str | None = None
    cancel_requested: bool
    queued_at: str | None = None
    run_after: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    updated_at: str | None = None
    deadline_at: str | None = None
    lease_until: str | None = None

    @classmethod
    def of(cls, job: Any) -> JobView:
        """The view of an object with these fields as attributes (core's queue Job): ids and
        timestamps become text. Not validated again: the job came from the database."""
        fields = {}
        for name in cls.model_fields:
            value = getattr(job, name)
            fields[name] = _text(value) if name in _AS_TEXT else value
        return cls.model_construct(**fields)

    @classmethod
    def from_pb(cls, job: pb.Job) -> JobView:
        """The view of a gRPC Job: empty text is null, JSON fields parsed."""
        fields: dict[str, Any] = {}
        for name, info in cls.model_fields.items():
            if name in _JSON_FIELDS:
                fields[name] = _loads(getattr(job, f"{name}_json"))
            else:
                value = getattr(job, name)
                fields[name] = value if value or info.is_required() else None
        fields["payload"] = fields["payload"] or {}
        return cls.model_construct(**fields)

    def to_pb(self) -> pb.Job:
        """The gRPC Job of this view: null text is empty, JSON fields as compact JSON text."""
        message = pb.Job()
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name in _JSON_FIELDS:
                setattr(message, f"{name}_json", _dumps(value))
            elif value is not None:
                setattr(message, name, value)
        return message

    def as_json(self) -> dict[str, Any]:
        """The view as JSON-ready data, in field order, nulls included."""
        return self.model_dump(mode="json")


class LeasedJob(JobView):
    """A claimed job, with the lease token that fences its heartbeat, complete and fail."""

    lease_token: str | None = None


def event_json(
    *, id: int, job_id: str, type: str, data: Any, created_at: str | None, job: JobView | None
) -> dict[str, Any]:
    """A job event as the SSE frames carry it; `job` (the finished job) only on terminal events."""
    view: dict[str, Any] = {
        "id": id,
        "job_id": job_id,
        "type": type,
        "data": data,
        "created_at": created_at,
    }
    if job is not None:
        view["job"] = job.as_json()
    return view
