"""What happens when a routed job fails or finishes: breakers count failures and successes,
and a failed Ollama job moves to another of its devices, or to its cloud fallback."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from core.queue.models import QUEUED, Completion, Job
from core.routing.breaker import failure_target, success_targets
from core.routing.breaker_store import BreakerStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BreakerConfig:
    failures: int = 3
    cooldown_seconds: float = 30.0


class Failover:
    def __init__(self, store: BreakerStore, config: BreakerConfig) -> None:
        self.store = store
        self.config = config

    async def failed(self, job: Job, *, error: str, counts: bool, status: str) -> str | None:
        """Counts the failure against the job's device or cloud; moves a queued Ollama job to
        another candidate device, else to its cloud fallback. Returns the kind to wake."""
        target = failure_target(job.kind, job.device_id, job.provider)
        if not counts or target is None:
            return None
        breaker = await self.store.record_failure(
            target,
            threshold=self.config.failures,
            cooldown_seconds=self.config.cooldown_seconds,
            error=error,
        )
        extra = {"job_id": str(job.id), "device_id": job.device_id}
        if breaker.open_until is not None and breaker.failures == self.config.failures:
            log.warning("circuit opened for %s: %s", target, error, extra=extra)
        if status != QUEUED or not job.device_id or not job.kind.startswith("ollama."):
            return None
        reason = f"device {job.device_id} failed: {error[:300]}"
        if await self.store.failover_device(job.id, job.device_id, reason):
            log.info("failover to another device: %s", reason, extra=extra)
            return job.kind
        kind = await self.store.failover_cloud(job.id, job.device_id, reason)
        if kind:
            log.info("failover to %s: %s", kind, reason, extra=extra)
        return kind

    async def completed(self, completions: Sequence[Completion], statuses: dict) -> None:
        targets = [
            t
            for c in completions
            if statuses.get(c.job_id) == "done"
            for t in success_targets(c.metrics)
        ]
        await self.store.record_success(targets)
