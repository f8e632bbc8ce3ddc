"""Structured outputs of the MCP tools (their JSON schemas are published with the tools)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mcp_bridge.views import job_view
from proto import llm_pb2 as pb


class Constraints(BaseModel):
    """Routing constraints, as core's POST /v1/llm/request takes them."""

    model_config = ConfigDict(extra="forbid")

    prefer_local: bool = False
    force_cloud: bool = False
    max_latency_ms: float | None = Field(None, gt=0, le=3_600_000)
    fallback: bool = Field(False, description="An Ollama job whose devices fail may run on a cloud")


class JobInfo(BaseModel):
    """A job as core's GET /v1/jobs/{id} shows it."""

    id: str
    kind: str
    status: str = Field(description="queued, running, done, error or canceled")
    payload: dict[str, Any] = Field(default_factory=dict)
    result: Any = None
    error: str | None = None
    priority: int = 0
    source: str | None = None
    attempts: int = 0
    max_attempts: int = 0
    worker_id: str | None = None
    provider: str | None = None
    model: str | None = None
    device_id: str | None = None
    metrics: dict[str, Any] | None = None
    cancel_requested: bool = False
    queued_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    deadline_at: str | None = None

    @classmethod
    def from_pb(cls, job: pb.Job) -> JobInfo:
        return cls.model_validate(job_view(job), strict=False)


class SubmittedJob(BaseModel):
    job_id: str
    status: str
    created: bool = Field(description="False when an idempotency key matched an existing job")


class WaitResult(BaseModel):
    finished: bool = Field(description="True when the job ended (done, error or canceled)")
    job: JobInfo
    events_seen: int = Field(description="Events received from core while waiting")


class LlmAnswer(BaseModel):
    job_id: str
    status: str = Field(description="The job's status: done when `answer` is set")
    finished: bool
    answer: str | None = Field(None, description="The model's answer text")
    provider: str | None = None
    model: str | None = None
    device_id: str | None = None
    kind: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    error: str | None = None
    reason: list[str] = Field(default_factory=list, description="Why core routed it this way")
    result: Any = Field(None, description="The provider's raw result")


class DeviceList(BaseModel):
    devices: list[dict[str, Any]]


class ModelList(BaseModel):
    models: list[dict[str, Any]]


class QueueStats(BaseModel):
    counts: dict[str, int] = Field(description="Jobs per status")
    total: int
    capped: bool = Field(False, description="True when a count stopped at the counting limit")
