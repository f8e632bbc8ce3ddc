"""The status snapshot service: what GET /v1/dashboard and gRPC GetStatus both call."""

from __future__ import annotations

from dataclasses import dataclass

from core.dashboard.models import StatusSnapshot
from core.dashboard.store import DashboardStore


@dataclass(frozen=True, slots=True)
class DashboardConfig:
    worker_live_seconds: float = 90.0
    device_max_concurrency: int = 1


class DashboardService:
    def __init__(self, store: DashboardStore, config: DashboardConfig) -> None:
        self._store = store
        self._config = config

    async def snapshot(self) -> StatusSnapshot:
        """The fleet right now; raises StoreUnavailable when the database is down."""
        return await self._store.read_snapshot(
            worker_live_seconds=self._config.worker_live_seconds,
            device_max_concurrency=self._config.device_max_concurrency,
        )
