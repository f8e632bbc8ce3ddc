"""Returns jobs whose lease expired to the queue, and ends jobs past their deadline.

Safe on every replica at once: each statement locks the rows it moves and
re-checks the lease/deadline in the same UPDATE.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.maintenance.loop import run_every
from core.queue.store import JobStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweeperConfig:
    interval_seconds: float = 1.0
    batch: int = 500


@dataclass(frozen=True)
class SweepResult:
    requeued_or_failed: int
    past_deadline: int


class LeaseSweeper:
    def __init__(self, store: JobStore, config: SweeperConfig | None = None) -> None:
        self._store = store
        self.config = config or SweeperConfig()

    async def run_once(self) -> SweepResult:
        """One pass; loops over batches until nothing more is due."""
        expired = deadline = 0
        while True:
            n = await self._store.requeue_expired_leases(batch=self.config.batch)
            expired += n
            if n < self.config.batch:
                break
        while True:
            n = await self._store.fail_past_deadline(batch=self.config.batch)
            deadline += n
            if n < self.config.batch:
                break
        if expired or deadline:
            log.info(
                "lease sweeper: %d expired leases handled, %d jobs past deadline", expired, deadline
            )
        return SweepResult(requeued_or_failed=expired, past_deadline=deadline)

    async def run(self) -> None:
        await run_every("lease sweeper", self.config.interval_seconds, self.run_once)
