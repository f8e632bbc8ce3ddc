"""Costs: prices from MODEL_PRICING_FILE and the API, and summaries by provider and model
over the last day, week (7 days) or month (30 days). Each finished job's cost row is written by
the statement that completes it (core/queue/jobs.sql)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.costs.pricing import PERIODS, Price, parse_prices
from core.costs.store import CostStore
from core.errors import InvalidInput

log = logging.getLogger(__name__)


class CostService:
    def __init__(self, store: CostStore, *, pricing_file: str | None = None) -> None:
        self.store = store
        self.pricing_file = pricing_file

    async def load_pricing_file(self) -> int:
        """Loads MODEL_PRICING_FILE (if set) into model_pricing; returns how many prices."""
        if not self.pricing_file:
            return 0
        try:
            text = await asyncio.to_thread(Path(self.pricing_file).read_text)
        except OSError as exc:
            raise InvalidInput(f"MODEL_PRICING_FILE {self.pricing_file}: {exc.strerror}") from None
        prices = parse_prices(text)
        await self.store.upsert_prices(prices, source="file")
        log.info("loaded %d model prices from %s", len(prices), self.pricing_file)
        return len(prices)

    async def set_prices(self, prices: Sequence[Price]) -> dict[str, Any]:
        await self.store.upsert_prices(prices, source="api")
        return await self.list_prices()

    async def list_prices(self) -> dict[str, Any]:
        rows = await self.store.prices()
        for row in rows:
            row["updated_at"] = row["updated_at"].isoformat()
        return {"prices": rows}

    async def summary(self, period: str) -> dict[str, Any]:
        if period not in PERIODS:
            raise InvalidInput(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
        days = PERIODS[period]
        rows = await self.store.summary(days)
        until = datetime.now(UTC)
        for row in rows:
            row["cost_usd"] = round(float(row["cost_usd"] or 0.0), 8)
        return {
            "period": period,
            "since": (until - timedelta(days=days)).isoformat(),
            "until": until.isoformat(),
            "total_usd": round(sum(r["cost_usd"] for r in rows), 8),
            "jobs": sum(r["jobs"] for r in rows),
            "unpriced_jobs": sum(r["unpriced_jobs"] for r in rows),
            "by_model": rows,
        }
