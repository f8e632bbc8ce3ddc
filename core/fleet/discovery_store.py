"""discovery_runs and the advisory lock that lets one replica at a time run a round."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from core.db.queries import load_queries
from core.db.store import PoolStore, translated_errors

Q = load_queries(Path(__file__).with_name("discovery_runs.sql"))

# Shared by every replica; distinct from the schema migration lock.
_DISCOVERY_LOCK_KEY = 0x6C6C6D646973  # "llmdis"


@dataclass(frozen=True)
class DiscoveryRun:
    id: int
    started_at: datetime
    finished_at: datetime | None
    summary: dict[str, Any]


class DiscoveryStore(PoolStore):
    @contextlib.asynccontextmanager
    async def round_lock(self, *, wait: bool) -> AsyncIterator[bool]:
        """Holds the cross-replica discovery lock; yields False (without it) when `wait` is
        False and another round is running."""
        with translated_errors():
            conn = await self._pool.acquire()
        try:
            with translated_errors():
                if wait:
                    await conn.execute(Q["discovery_lock"], _DISCOVERY_LOCK_KEY)
                    held = True
                else:
                    held = await conn.fetchval(Q["discovery_try_lock"], _DISCOVERY_LOCK_KEY)
            if not held:
                yield False
                return
            try:
                yield True
            finally:
                # Releasing the connection also resets it (pg_advisory_unlock_all), so a
                # cancelled unlock cannot leak the lock.
                with contextlib.suppress(Exception):
                    await conn.execute(Q["discovery_unlock"], _DISCOVERY_LOCK_KEY)
        finally:
            await self._pool.release(conn)

    async def start(self) -> int:
        async with self._conn() as conn:
            return await conn.fetchval(Q["discovery_run_start"])

    async def finish(self, run_id: int, summary: dict[str, Any]) -> tuple[datetime, datetime]:
        async with self._conn() as conn:
            row = await conn.fetchrow(Q["discovery_run_finish"], run_id, summary)
        return row["started_at"], row["finished_at"]

    async def last(self) -> DiscoveryRun | None:
        async with self._conn() as conn:
            row = await conn.fetchrow(Q["discovery_run_last"])
        return DiscoveryRun(**dict(row)) if row else None

    async def seconds_since_last(self) -> float | None:
        async with self._conn() as conn:
            return await conn.fetchval(Q["discovery_run_seconds_since_last"])
