"""Validated inputs of the queue, shared by the HTTP and gRPC faces so they cannot drift.

Field names are the HTTP bodies'; gRPC messages use the same ones. Bounds live here and
nowhere else.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, ValidationInfo, field_validator

from core.bounds import StrictFloat, StrictInt, StrictModel, bounded_document, in_range
from core.errors import InvalidInput
from core.queue.models import STATUSES

MAX_PAYLOAD_BYTES = 256 * 1024
MAX_RESULT_BYTES = 4 * 1024 * 1024
MAX_BATCH = 500

Kind = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
WorkerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:@/-]{1,200}$")]


def _json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


_Strict = StrictModel


def check_batch(size: int, what: str = "jobs") -> None:
    """InvalidInput unless a batch holds 1 to MAX_BATCH items."""
    if not 1 <= size <= MAX_BATCH:
        raise InvalidInput(f"a batch holds 1 to {MAX_BATCH} {what}, not {size}")


# Ids a caller makes up (job ids and lease tokens are UUIDs; longer is never one).
IdText = Annotated[str, StringConstraints(max_length=100)]


class JobCreate(_Strict):
    kind: Kind
    payload: dict[str, Any] = Field(default_factory=dict)
    priority: StrictInt = Field(0, ge=-1000, le=1000)
    source: ShortText | None = None
    max_attempts: StrictInt = Field(3, ge=1, le=100)
    deadline_at: datetime | None = None
    run_after: datetime | None = None
    idempotency_key: ShortText | None = None
    provider: ShortText | None = None
    model: ShortText | None = None
    device_id: ShortText | None = None

    @field_validator("payload")
    @classmethod
    def _payload_size(cls, value: dict[str, Any]) -> dict[str, Any]:
        size = _json_size(value)
        if size > MAX_PAYLOAD_BYTES:
            raise ValueError(f"payload is {size} bytes; at most {MAX_PAYLOAD_BYTES} allowed")
        return value

    @field_validator("deadline_at", "run_after")
    @classmethod
    def _timestamp(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        return in_range(info.field_name or "timestamp", value)


class JobListQuery(BaseModel):
    """Which jobs to list (GET /v1/jobs's query, gRPC ListJobs), newest first."""

    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]
    kind: Annotated[str, StringConstraints(max_length=100)] | None = None
    source: Annotated[str, StringConstraints(max_length=200)] | None = None
    limit: int = Field(50, ge=1, le=500)
    cursor: Annotated[str, StringConstraints(max_length=500)] | None = None


class WorkerRegister(_Strict):
    id: WorkerId
    name: ShortText | None = None
    platform: ShortText | None = None
    arch: ShortText | None = None
    host: ShortText | None = None
    tags: dict[str, Any] = Field(default_factory=dict)
    kinds: list[Kind] = Field(default_factory=list, max_length=100)

    @field_validator("tags")
    @classmethod
    def _tags_size(cls, value: dict[str, Any]) -> dict[str, Any]:
        return bounded_document("tags", value)


class ClaimRequest(_Strict):
    worker_id: WorkerId
    kinds: list[Kind] = Field(min_length=1, max_length=100)
    lease_seconds: StrictInt = Field(60, ge=1, le=3600)
    max_jobs: StrictInt = Field(1, ge=1, le=MAX_BATCH)
    wait_seconds: StrictFloat = Field(0.0, ge=0.0, le=60.0)


class HeartbeatRequest(_Strict):
    worker_id: WorkerId
    job_id: IdText
    lease_token: IdText | None = None
    extend_seconds: StrictInt = Field(60, ge=1, le=3600)


class _Outcome(_Strict):
    worker_id: WorkerId
    job_id: IdText
    lease_token: IdText | None = None
    metrics: dict[str, Any] | None = None

    @field_validator("metrics")
    @classmethod
    def _metrics_size(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return bounded_document("metrics", value)


class CompleteRequest(_Outcome):
    result: Any = None
    # The end of the job's stream (what a progress report would carry), written as its last
    # progress event just before the terminal one: one call where there were two.
    progress: dict[str, Any] | None = None

    @field_validator("result")
    @classmethod
    def _result_size(cls, value: Any) -> Any:
        size = _json_size(value)
        if size > MAX_RESULT_BYTES:
            raise ValueError(f"result is {size} bytes; at most {MAX_RESULT_BYTES} allowed")
        return value

    @field_validator("progress")
    @classmethod
    def _progress_size(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else _progress_data(value)


class FailRequest(_Outcome):
    error: Annotated[str, StringConstraints(max_length=10_000)] = "unknown error"
    retryable: bool = True
    release: bool = False
    # Seconds before a retry, when the provider said (HTTP 429 Retry-After); else backoff.
    retry_after: StrictFloat | None = Field(None, ge=0, le=3600)


class ProgressRequest(_Strict):
    worker_id: WorkerId
    job_id: IdText
    lease_token: IdText | None = None
    data: dict[str, Any]

    @field_validator("data")
    @classmethod
    def _data_size(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _progress_data(value)


def _progress_data(value: dict[str, Any]) -> dict[str, Any]:
    if _json_size(value) > 64 * 1024:
        raise ValueError("progress data is larger than 64 KiB")
    return value
