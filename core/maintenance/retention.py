"""Deletes finished jobs older than JOB_RETENTION_DAYS, in small batches."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from core.maintenance.loop import run_every
from core.queue.store import JobStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionConfig:
    retention_days: float = 7.0
    interval_seconds: float = 300.0
    batch: int = 1000


class RetentionCleaner:
    def __init__(self, store: JobStore, config: RetentionConfig | None = None) -> None:
        self._store = store
        self.config = config or RetentionConfig()

    async def run_once(self) -> int:
        """Deletes every finished job past retention; returns how many."""
        total = 0
        age = self.config.retention_days * 86400
        while True:
            n = await self._store.delete_finished_before(age_seconds=age, batch=self.config.batch)
            total += n
            if n < self.config.batch:
                break
            await asyncio.sleep(0)  # let the event loop breathe between batches
        if total:
            log.info(
                "retention: deleted %d finished jobs older than %s days",
                total,
                self.config.retention_days,
            )
        return total

    async def run(self) -> None:
        await run_every("retention", self.config.interval_seconds, self.run_once)
