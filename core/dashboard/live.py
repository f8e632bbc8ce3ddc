"""What the live dashboard page shows, read as one frame: the fleet, the queue, its last hour
and the newest jobs of each filter in use; and a job's attempts and cost for its page."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.dashboard.history import HISTORY_MINUTES, MinuteStats, history_view, merge_history
from core.dashboard.live_store import LiveStore
from core.dashboard.service import DashboardService
from core.dashboard.store import FINISHED_WINDOW_SECONDS
from core.dashboard.view import snapshot_view
from core.fleet.service import FleetService
from core.queue.ids import parse_job_id
from core.queue.models import Job
from core.queue.service import QueueService
from proto.jobs import view_of

MAX_ERROR_CHARS = 300  # a job list row shows the start of the error; the job page all of it


@dataclass(frozen=True, slots=True)
class JobFilter:
    """The job list a page shows (None: any)."""

    status: str | None = None
    kind: str | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class LiveConfig:
    jobs_listed: int = 50
    # The hour is read once, then only its last minutes this often (the charts are per minute).
    history_refresh_seconds: float = 15.0
    history_recent_seconds: float = 150.0


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# A job list row: the public Job's fields but the large ones (payload, result, metrics).
ROW_FIELDS = (
    "id",
    "kind",
    "status",
    "source",
    "provider",
    "model",
    "device_id",
    "attempts",
    "max_attempts",
    "cancel_requested",
    "error",
    "queued_at",
    "started_at",
    "finished_at",
)


def job_row_view(job: Job) -> dict[str, Any]:
    """A job as a list row: the public Job (proto/jobs.py) cut to ROW_FIELDS, its error cut to
    MAX_ERROR_CHARS."""
    view = view_of(job)
    row = {name: view[name] for name in ROW_FIELDS}
    error = row["error"]
    if error and len(error) > MAX_ERROR_CHARS:
        row["error"] = error[:MAX_ERROR_CHARS] + "…"
    return row


class LiveDashboard:
    def __init__(
        self,
        *,
        store: LiveStore,
        dashboard: DashboardService,
        fleet: FleetService,
        queue: QueueService,
        config: LiveConfig | None = None,
    ) -> None:
        self._store = store
        self._dashboard = dashboard
        self._fleet = fleet
        self._queue = queue
        self._config = config or LiveConfig()
        self._history: tuple[MinuteStats, ...] = ()
        self._history_read_at: float | None = None

    async def frames(self, filters: Iterable[JobFilter]) -> dict[JobFilter, dict[str, Any]]:
        """One frame per filter: the same fleet part, that filter's newest jobs.

        Raises StoreUnavailable when the database is down.
        """
        shared = await self.fleet_frame()
        out: dict[JobFilter, dict[str, Any]] = {}
        for job_filter in filters:
            out[job_filter] = {**shared, "jobs": await self.jobs(job_filter)}
        return out

    async def fleet_frame(self) -> dict[str, Any]:
        snapshot = await self._dashboard.snapshot()
        devices = await self._fleet.list_devices()
        return {
            "generated_at": _ts(snapshot.generated_at),
            "snapshot": snapshot_view(snapshot),
            "devices": devices["devices"],
            "providers": devices.get("providers", {}),
            "breakdown": await self._store.queue_breakdown(
                failed_within_seconds=FINISHED_WINDOW_SECONDS
            ),
            "history": history_view(await self._history_now(snapshot.generated_at)),
        }

    async def _history_now(self, now: datetime) -> tuple[MinuteStats, ...]:
        config = self._config
        clock = time.monotonic()
        read_at = self._history_read_at
        if read_at is not None and clock - read_at < config.history_refresh_seconds:
            return self._history
        # A cache older than the recent window has a gap: read the whole hour again.
        whole = read_at is None or clock - read_at > config.history_recent_seconds - 30
        within = HISTORY_MINUTES * 60 if whole else config.history_recent_seconds
        fresh = await self._store.history(within_seconds=within)
        self._history = merge_history(() if whole else self._history, fresh, now=now)
        self._history_read_at = clock
        return self._history

    async def jobs(self, job_filter: JobFilter) -> list[dict[str, Any]]:
        page = await self._queue.list_jobs(
            status=job_filter.status,
            kind=job_filter.kind,
            source=job_filter.source,
            limit=self._config.jobs_listed,
        )
        return [job_row_view(j) for j in page.jobs]

    async def job_extras(self, job_id: str) -> dict[str, Any]:
        """A job's attempts and cost; raises JobNotFound for an unknown job."""
        job = await self._queue.get(parse_job_id(job_id))
        attempts = await self._store.attempts(job.id)
        cost = await self._store.cost(job.id)
        return {
            "job_id": str(job.id),
            "attempts": [
                {
                    **a,
                    "started_at": _ts(a["started_at"]),
                    "finished_at": _ts(a["finished_at"]),
                    # An attempt ran where the job was bound (a retry may move it; the job
                    # keeps the last device).
                    "device_id": job.device_id,
                }
                for a in attempts
            ],
            "cost": None if cost is None else {**cost, "finished_at": _ts(cost["finished_at"])},
        }
