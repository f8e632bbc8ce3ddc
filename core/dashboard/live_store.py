"""The SQL of the live dashboard page beyond the status snapshot: breakdown, history, a job's
attempts and cost."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg

from core.dashboard.history import MinuteStats
from core.db.queries import load_queries
from core.errors import StoreUnavailable

Q = load_queries(Path(__file__).with_name("live.sql"))

MAX_ATTEMPTS_LISTED = 100


class LiveStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @contextlib.asynccontextmanager
    async def _conn(self) -> AsyncIterator[asyncpg.Connection]:
        try:
            async with self._pool.acquire() as conn:
                yield conn
        except (OSError, asyncpg.InterfaceError, asyncpg.CannotConnectNowError) as exc:
            raise StoreUnavailable(f"database unavailable: {exc}") from exc

    async def queue_breakdown(self, *, failed_within_seconds: float) -> list[dict[str, Any]]:
        """[{status, kind, provider, n}]: queued and running now, error within the window."""
        async with self._conn() as conn:
            rows = await conn.fetch(
                Q["job_count_by_status_kind_provider"], float(failed_within_seconds)
            )
        return [dict(r) for r in rows]

    async def history(self, *, within_seconds: float) -> list[MinuteStats]:
        """Per minute, the jobs that ended in the last `within_seconds`, oldest first."""
        async with self._conn() as conn:
            rows = await conn.fetch(Q["job_history_by_minute"], float(within_seconds))
        return [MinuteStats(**dict(r)) for r in rows]

    async def attempts(self, job_id: uuid.UUID) -> list[dict[str, Any]]:
        async with self._conn() as conn:
            rows = await conn.fetch(Q["job_attempt_list"], job_id, MAX_ATTEMPTS_LISTED)
        return [dict(r) for r in rows]

    async def cost(self, job_id: uuid.UUID) -> dict[str, Any] | None:
        async with self._conn() as conn:
            row = await conn.fetchrow(Q["job_cost_get"], job_id)
        return dict(row) if row else None
