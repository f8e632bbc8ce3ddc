"""SQL of circuit breakers and cloud fallbacks (breakers.sql); asyncpg stays in here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.db.queries import load_queries
from core.db.store import PoolStore
from core.routing.breaker import Breaker

Q = load_queries(Path(__file__).parent / "breakers.sql")


def breaker_from_row(row: Any) -> Breaker:
    return Breaker(
        target=row["target"],
        failures=row["failures"],
        open_until=row["open_until"],
        opened_at=row["opened_at"],
        last_error=row["last_error"],
    )


class BreakerStore(PoolStore):
    async def record_failure(
        self, target: str, *, threshold: int, cooldown_seconds: float, error: str
    ) -> Breaker:
        async with self._conn() as conn:
            row = await conn.fetchrow(
                Q["breaker_record_failure"], target, threshold, float(cooldown_seconds), error[:500]
            )
        return breaker_from_row(row)

    async def record_success(self, targets: Sequence[str]) -> None:
        if targets:
            async with self._conn() as conn:
                await conn.execute(Q["breaker_record_success"], sorted(set(targets)))

    async def all(self) -> list[Breaker]:
        async with self._conn() as conn:
            return [breaker_from_row(r) for r in await conn.fetch(Q["breaker_list"])]

    async def failover_device(self, job_id: uuid.UUID, device_id: str, reason: str) -> list[str]:
        """Drops the device from a queued job's candidates when others remain; [] otherwise."""
        async with self._conn() as conn:
            row = await conn.fetchrow(Q["job_failover_device"], job_id, device_id, reason)
        return list(row["device_candidates"]) if row else []

    async def failover_cloud(self, job_id: uuid.UUID, device_id: str, reason: str) -> str | None:
        """Turns a queued job into its cloud fallback; the new kind, or None without one."""
        async with self._conn() as conn:
            row = await conn.fetchrow(Q["job_failover_cloud"], job_id, device_id, reason)
        return row["kind"] if row else None
