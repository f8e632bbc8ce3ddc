"""SQL of pricing and costs (costs.sql); asyncpg stays in here."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.costs.pricing import Price
from core.db.queries import load_queries
from core.db.store import PoolStore

Q = load_queries(Path(__file__).parent / "costs.sql")


class CostStore(PoolStore):
    async def upsert_prices(self, prices: Sequence[Price], *, source: str) -> None:
        if not prices:
            return
        async with self._conn() as conn:
            await conn.execute(
                Q["pricing_upsert"],
                [p.provider for p in prices],
                [p.model for p in prices],
                [p.input_per_1m for p in prices],
                [p.output_per_1m for p in prices],
                [source] * len(prices),
            )

    async def prices(self) -> list[dict[str, Any]]:
        async with self._conn() as conn:
            return [dict(r) for r in await conn.fetch(Q["pricing_list"])]

    async def summary(self, days: int) -> list[dict[str, Any]]:
        async with self._conn() as conn:
            return [dict(r) for r in await conn.fetch(Q["job_costs_summary"], days)]
