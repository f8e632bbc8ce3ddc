"""Protobuf <-> core types. JSON travels in *_json strings; bad JSON is InvalidInput, never {}."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from google.protobuf.message import Message

from core.errors import InvalidInput, echo
from core.queue.models import Job, JobEvent
from proto import llm_pb2 as pb
from proto.jobs import to_pb, view_of


def ts(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def parse_ts(name: str, value: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{name} is not an RFC 3339 timestamp: {echo(value)!r}") from None


def parse_json(name: str, value: str, *, default: Any = None, object_only: bool = False) -> Any:
    if not value:
        return default
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise InvalidInput(f"{name} is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidInput(f"{name} is nested too deeply") from None
    if object_only and not isinstance(parsed, dict):
        raise InvalidInput(f"{name} must be a JSON object")
    return parsed


def dumps(value: Any) -> str:
    return "" if value is None else json.dumps(value, separators=(",", ":"))


def job_to_pb(job: Job, *, with_lease: bool = False) -> pb.Job:
    return to_pb(view_of(job, with_lease=with_lease))


def event_to_pb(event: JobEvent, job: Job | None = None) -> pb.JobEvent:
    message = pb.JobEvent(
        id=event.id,
        job_id=str(event.job_id),
        type=event.type,
        data_json=dumps(event.data),
        created_at=ts(event.created_at),
    )
    if job is not None:
        message.job.CopyFrom(job_to_pb(job))
    return message


def given(message: Message, *names: str) -> dict[str, Any]:
    """The named fields the caller set, for a schema whose defaults fill in the rest, as they
    do for a field absent from an HTTP body. proto3 cannot tell an unset number or text from 0
    or "": those count as not given; a field declared `optional` counts when present."""
    fields: dict[str, Any] = {}
    for name in names:
        value = getattr(message, name)
        if message.HasField(name) if _has_presence(message, name) else bool(value):
            fields[name] = value
    return fields


def _has_presence(message: Message, name: str) -> bool:
    return message.DESCRIPTOR.fields_by_name[name].has_presence


def submit_fields(req: pb.SubmitJobRequest) -> dict[str, Any]:
    """The fields of a SubmitJobRequest as JobCreate input (unset fields left to defaults)."""
    return {
        "kind": req.kind,
        "payload": parse_json("payload_json", req.payload_json, default={}, object_only=True),
        "priority": req.priority,
        "deadline_at": parse_ts("deadline_at", req.deadline_at),
        "run_after": parse_ts("run_after", req.run_after),
        **given(req, "max_attempts", "source", "idempotency_key", "provider", "model", "device_id"),
    }
