"""Validated inputs of the queue, shared by the HTTP and gRPC faces so they cannot drift.

Field names follow the seed's HTTP bodies. Bounds live here and nowhere else.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

MAX_PAYLOAD_BYTES = 256 * 1024
MAX_RESULT_BYTES = 4 * 1024 * 1024
MAX_BATCH = 500

Kind = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
WorkerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:@/-]{1,200}$")]


def _json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def _aware(value: datetime | None) -> datetime | None:
    # A timestamp without an offset is taken as UTC rather than the server's local time.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class JobCreate(_Strict):
    kind: Kind
    payload: dict[str, Any] = Field(default_factory=dict)
    priority: int = Field(0, ge=-1000, le=1000)
    source: ShortText | None = None
    max_attempts: int = Field(3, ge=1, le=100)
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
    def _timezone(cls, value: datetime | None) -> datetime | None:
        return _aware(value)


class WorkerRegister(_Strict):
    id: WorkerId
    name: ShortText | None = None
    platform: ShortText | None = None
    arch: ShortText | None = None
    host: ShortText | None = None
    tags: dict[str, Any] = Field(default_factory=dict)
    kinds: list[Kind] = Field(default_factory=list, max_length=100)


class ClaimRequest(_Strict):
    worker_id: WorkerId
    kinds: list[Kind] = Field(min_length=1, max_length=100)
    lease_seconds: int = Field(60, ge=1, le=3600)
    max_jobs: int = Field(1, ge=1, le=MAX_BATCH)
    wait_seconds: float = Field(0.0, ge=0.0, le=60.0)


class HeartbeatRequest(_Strict):
    worker_id: WorkerId
    job_id: str
    lease_token: str | None = None
    extend_seconds: int = Field(60, ge=1, le=3600)


class _Outcome(_Strict):
    worker_id: WorkerId
    job_id: str
    lease_token: str | None = None
    metrics: dict[str, Any] | None = None


class CompleteRequest(_Outcome):
    result: Any = None

    @field_validator("result")
    @classmethod
    def _result_size(cls, value: Any) -> Any:
        size = _json_size(value)
        if size > MAX_RESULT_BYTES:
            raise ValueError(f"result is {size} bytes; at most {MAX_RESULT_BYTES} allowed")
        return value


class FailRequest(_Outcome):
    error: Annotated[str, StringConstraints(max_length=10_000)] = "unknown error"
    retryable: bool = True
    release: bool = False
    # Seconds before a retry, when the provider said (HTTP 429 Retry-After); else backoff.
    retry_after: float | None = Field(None, ge=0, le=3600)


class ProgressRequest(_Strict):
    worker_id: WorkerId
    job_id: str
    lease_token: str | None = None
    data: dict[str, Any]

    @field_validator("data")
    @classmethod
    def _data_size(cls, value: dict[str, Any]) -> dict[str, Any]:
        if _json_size(value) > 64 * 1024:
            raise ValueError("progress data is larger than 64 KiB")
        return value
