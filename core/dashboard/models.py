"""What the status snapshot holds, as plain frozen dataclasses built from rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class RunningJob:
    id: str
    kind: str
    device_id: str | None
    worker_id: str | None
    model: str | None
    provider: str | None
    running_seconds: float


@dataclass(frozen=True, slots=True)
class DeviceLoad:
    id: str
    name: str | None
    online: bool
    running: int
    limit: int
    last_seen_at: datetime | None
    offline_reason: str | None
    offline_at: datetime | None
    ollama_latency_ms: float | None


@dataclass(frozen=True, slots=True)
class LatestBenchmark:
    device_id: str | None
    model: str
    provider: str
    task_type: str
    tps: float | None
    latency_ms: float | None
    ok: bool
    error: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LiveWorker:
    id: str
    name: str | None
    host: str | None
    kinds: tuple[str, ...]
    last_seen_seconds: float
    running: int


@dataclass(frozen=True, slots=True)
class KindOutcomes:
    """A job kind's latest terminal statuses (done/error), newest first."""

    kind: str
    statuses: tuple[str, ...]
    last_error: str | None


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    generated_at: datetime
    jobs_by_status: dict[str, int]  # done/error/canceled: within the last hour
    finished_last_minute: dict[str, int]
    oldest_queued_seconds: float | None
    running_jobs: tuple[RunningJob, ...]
    devices: tuple[DeviceLoad, ...]
    benchmarks: tuple[LatestBenchmark, ...]
    workers: tuple[LiveWorker, ...]
    recent_outcomes: tuple[KindOutcomes, ...] = field(default_factory=tuple)
    device_max_concurrency: int = 1
