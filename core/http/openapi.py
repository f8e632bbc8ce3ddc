"""What the OpenAPI schema (/docs, /openapi.json) says about answers: the error shape, which
errors a route can give, and the shapes of the success bodies.

The job routes answer through these models (`response_model`, the Job itself from
`proto/jobs.py`); the other routes return dicts these models document.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from proto.jobs import JobView, LeasedJob


class ErrorDetail(BaseModel):
    code: str = Field(examples=["not_found"], description="stable, machine-readable")
    message: str = Field(examples=["job 7d0c... not found"], description="for people")


class ErrorResponse(BaseModel):
    """Every error core answers: {"error": {"code", "message"}}."""

    error: ErrorDetail


_WHEN: dict[int, str] = {
    400: "malformed_json: the body is not valid JSON (invalid_last_event_id on streams)",
    401: "unauthorized: missing or wrong bearer token (API_TOKEN, or WORKER_TOKEN for workers)",
    404: "not_found: no such job, device or path",
    409: "conflict (lease_lost: the job is no longer running under this lease)",
    413: "payload_too_large: the body is larger than MAX_BODY_BYTES",
    415: "unsupported_media_type: the body is not sent as Content-Type: application/json",
    422: "validation_failed / invalid_input: a field is missing, malformed or out of bounds",
    503: "unavailable: the database, or no provider/device can serve the request",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entries of these error statuses, each with ErrorResponse."""
    return {s: {"model": ErrorResponse, "description": _WHEN[s]} for s in statuses}


# Errors any route with a JSON body can give (besides its own).
BODY_ERRORS = (400, 413, 415, 422)


class JobSubmitted(BaseModel):
    job_id: str
    status: str = Field(examples=["queued"])
    created: bool = Field(description="false when an Idempotency-Key matched an existing job")


class JobsSubmitted(BaseModel):
    jobs: list[JobSubmitted]


class JobPage(BaseModel):
    jobs: list[JobView]
    next_cursor: str | None = Field(None, description="pass as ?cursor= for the next page")


class LlmRouted(BaseModel):
    job_id: str
    provider: str = Field(examples=["ollama"])
    kind: str = Field(examples=["ollama.generate"])
    model: str | None = None
    device_id: str | None = None
    reason: list[str] = Field(description="why this provider/device, in order")


class Health(BaseModel):
    status: Literal["ok", "degraded", "draining"]
    database: Literal["ok", "unreachable"]
    events: Literal["listening", "reconnecting"]


def ok(model: type[BaseModel], status: int = 200) -> dict[int | str, dict[str, Any]]:
    """Documents the success body of a route that returns a plain dict."""
    return {status: {"model": model, "description": model.__doc__ or "OK"}}


# Success bodies of the worker, fleet and benchmark routes (nested objects stay open).
class WorkerRegistered(BaseModel):
    ok: bool
    worker_id: str


class Claimed(BaseModel):
    """`job` is the first of `jobs`, null when none; each carries its lease_token."""

    job: LeasedJob | None
    jobs: list[LeasedJob]


class HeartbeatAnswer(BaseModel):
    ok: bool
    canceled: bool = Field(description="true: the job was canceled; stop working on it")
    lease_until: str | None


class Completed(BaseModel):
    ok: bool
    status: str = Field(examples=["done"])


class Failed(BaseModel):
    ok: bool
    status: str = Field(description="queued (to be retried at run_after) or error")
    run_after: str | None


class ProgressAdded(BaseModel):
    ok: bool
    event_id: int
    canceled: bool = Field(
        description="The job's cancellation was asked for: stop working on it (a heartbeat "
        "now ends it)"
    )


class BenchmarksQueued(BaseModel):
    job_ids: list[str]
    device_id: str
    model: str
    kind: str = Field(examples=["benchmark.ollama.generate"])


class BenchmarkList(BaseModel):
    benchmarks: list[dict[str, Any]] = Field(
        description="device_id, model, task_type, tokens_in, tokens_out, latency_ms, tps, ok, ..."
    )


class DiscoveryRun(BaseModel):
    """A discovery round; ran=false before the first."""

    ran: bool
    id: int | None = None
    started_at: str | None = None
    finished_at: str | None = None
    summary: dict[str, Any] | None = Field(
        None,
        description="ok, error, devices_seen, online, with_ollama, models_added, "
        "models_removed, came_back, went_offline, errors, tailnet (why the tailnet was not "
        "read while the configured OLLAMA_BASE_URL was probed), duration_ms",
    )


class DeviceMarkedOffline(BaseModel):
    ok: bool
    device_id: str
    online: Literal[False]
    reason: str


class DeviceList(BaseModel):
    devices: list[dict[str, Any]] = Field(description="see doc/README.md, Devices and models")
    online: int
    total: int


class ModelList(BaseModel):
    models: list[dict[str, Any]]


class Dashboard(BaseModel):
    """The fleet at a glance (the same JSON as gRPC GetStatus; doc/telemetry.md)."""

    generated_at: str
    jobs: dict[str, int]
    finished_window_seconds: float
    throughput: dict[str, float]
    oldest_queued_seconds: float | None
    running: list[dict[str, Any]]
    devices: list[dict[str, Any]]
    benchmarks: list[dict[str, Any]]
    workers: list[dict[str, Any]]
    recent_outcomes: dict[str, Any]
