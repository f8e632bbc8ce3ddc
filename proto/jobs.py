"""The public Job, written once: the JSON that core's HTTP API, its SSE frames and the bridge
answer with (`JobView`), and the gRPC `Job` message built from and read back into the same
fields.

`JobView` is the schema (core's `response_model`, hence /openapi.json). Core builds the view of
its queue's Job (`view_of`), the gRPC face sends it (`to_pb`), the bridge reads it back
(`from_pb`): the field list, their order and which are null live here only. Views are plain
dicts: a claim answers many jobs, and no answer needs a model instance per job.
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


# One compact encoder, not one per json.dumps(..., separators=...) call: claims encode many jobs.
_ENCODER = json.JSONEncoder(separators=(",", ":"))


def _dumps(value: Any) -> str:
    return "" if value is None else _ENCODER.encode(value)


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


class LeasedJob(JobView):
    """A claimed job, with the lease token that fences its heartbeat, complete and fail."""

    lease_token: str | None = None


# The views' fields in order, and which of them may be null (the others are always there).
_VIEW_FIELDS = tuple(JobView.model_fields)
_LEASED_FIELDS = tuple(LeasedJob.model_fields)
_REQUIRED = frozenset(name for name, info in LeasedJob.model_fields.items() if info.is_required())
# (field, held as another type than text by core, its name in the gRPC message), in order.
_LEASED_PLAN = tuple(
    (name, name in _AS_TEXT, f"{name}_json" if name in _JSON_FIELDS else name)
    for name in _LEASED_FIELDS
)
_VIEW_PLAN = _LEASED_PLAN[: len(_VIEW_FIELDS)]


def view_of(job: Any, *, with_lease: bool = False) -> dict[str, Any]:
    """The public Job of an object with these fields as attributes (core's queue Job), as
    JSON-ready data in field order: ids and timestamps become text; `lease_token` only
    `with_lease` (a claim's answer)."""
    view: dict[str, Any] = {}
    for name, as_text, _wire in _LEASED_PLAN if with_lease else _VIEW_PLAN:
        value = getattr(job, name)
        if as_text and value is not None:
            value = value.isoformat() if isinstance(value, datetime) else str(value)
        view[name] = value
    return view


def to_pb(view: dict[str, Any]) -> pb.Job:
    """The gRPC Job of a view: null text is left empty, JSON fields go as compact JSON text."""
    fields: dict[str, Any] = {}
    for name, _as_text, wire in _LEASED_PLAN:
        if name not in view:
            continue
        value = view[name]
        if wire != name:
            fields[wire] = _dumps(value)
        elif value is not None:
            fields[wire] = value
    return pb.Job(**fields)


def from_pb(job: pb.Job) -> dict[str, Any]:
    """The public Job (without lease token) read back from a gRPC Job: empty text is null."""
    view: dict[str, Any] = {}
    for name, _as_text, wire in _VIEW_PLAN:
        value = getattr(job, wire)
        if wire != name:
            view[name] = json.loads(value) if value else None
        else:
            view[name] = value if value or name in _REQUIRED else None
    view["payload"] = view["payload"] or {}
    return view


def event_json(
    *, id: int, job_id: str, type: str, data: Any, created_at: str | None, job: dict | None
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
        view["job"] = job
    return view
