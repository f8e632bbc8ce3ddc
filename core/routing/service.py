"""Routing's service functions (HTTP and gRPC both call these) and its hooks into the queue."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.errors import InvalidInput
from core.queue.models import Claimed, Completion, Job, JobFallback, NewJob
from core.queue.service import QueueService
from core.routing.admission import admit_job, needs_fleet
from core.routing.breaker_store import BreakerStore
from core.routing.decide import Decision, cloud_fallback, route
from core.routing.devices import limit_violation
from core.routing.failover import Failover
from core.routing.fleet import DefaultModels, Fleet
from core.routing.schemas import BenchmarkRun, LlmRequest
from core.routing.store import BenchmarkRecord, RoutingStore, overhead_ms
from proto.contract import DEVICE_KINDS, LATENCY_MS, TOKENS_OUT, TPS, benchmark_kind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RoutingConfig:
    worker_live_seconds: float = 90.0
    device_max_concurrency: int = 1
    strict_limits: bool = False
    defaults: DefaultModels = field(default_factory=DefaultModels)


@dataclass(frozen=True)
class RouteResult:
    job_id: str
    provider: str
    kind: str
    model: str
    device_id: str | None
    reason: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "provider": self.provider,
            "kind": self.kind,
            "model": self.model,
            "device_id": self.device_id,
            "reason": self.reason,
        }


class FleetReader:
    def __init__(self, store: RoutingStore, config: RoutingConfig) -> None:
        self.store = store
        self.config = config
        self._reading: asyncio.Future[Fleet] | None = None

    async def fleet(self) -> Fleet:
        """The fleet now. A caller that comes while a read is in flight shares its answer
        (begun at most one round trip before it came) instead of reading again: requests
        that arrive together, as they do when a batch of jobs finishes, cost one read."""
        reading = self._reading
        if reading is None:
            reading = self._reading = asyncio.ensure_future(self._read())
            reading.add_done_callback(self._read_done)
        # Shielded: one caller that goes away does not cancel the read the others wait for.
        return await asyncio.shield(reading)

    async def _read(self) -> Fleet:
        return await self.store.load_fleet(
            live_seconds=self.config.worker_live_seconds,
            defaults=self.config.defaults,
            strict_limits=self.config.strict_limits,
        )

    def _read_done(self, reading: asyncio.Future[Fleet]) -> None:
        if self._reading is reading:
            self._reading = None
        if not reading.cancelled():
            reading.exception()  # retrieved: every caller may have gone


class DeviceQueueHooks(FleetReader):
    """The queue's hooks (core.queue.service.QueueHooks) for device-bound jobs."""

    device_kinds = DEVICE_KINDS

    def __init__(
        self,
        store: RoutingStore,
        config: RoutingConfig,
        *,
        failover: Failover | None = None,
    ) -> None:
        super().__init__(store, config)
        self.failover = failover

    async def failed(self, job: Job, *, error: str, counts: bool, status: str) -> str | None:
        if self.failover is None:
            return None
        return await self.failover.failed(job, error=error, counts=counts, status=status)

    async def admit(self, jobs: list[NewJob]) -> list[NewJob]:
        if not any(needs_fleet(j) for j in jobs):
            return jobs
        fleet = await self.fleet()
        return [admit_job(j, fleet) if needs_fleet(j) else j for j in jobs]

    async def claim_device_jobs(
        self, *, worker_id: str, kinds: list[str], lease_seconds: float, max_jobs: int
    ) -> Claimed:
        return await self.store.claim_device_jobs(
            worker_id=worker_id,
            kinds=kinds,
            lease_seconds=lease_seconds,
            max_jobs=max_jobs,
            default_capacity=self.config.device_max_concurrency,
        )

    async def completed(self, completions: Sequence[Completion], statuses: dict) -> None:
        """Folds finished Ollama jobs' figures into the per-(device, model) estimate; closes
        the breakers of what succeeded (costs are recorded by the completion itself)."""
        if self.failover is not None:
            await self.failover.completed(completions, statuses)
        measurements = []
        for c in completions:
            m = c.metrics if isinstance(c.metrics, dict) else {}
            if statuses.get(c.job_id) != "done" or m.get("provider") != "ollama":
                continue
            if m.get("benchmark") or not m.get("device_id") or not m.get("model"):
                continue
            tps = _number(m.get(TPS))
            latency = _number(m.get(LATENCY_MS))
            tokens_out = _number(m.get(TOKENS_OUT))
            if tps is None and latency is None:
                continue
            overhead = overhead_ms(latency, int(tokens_out) if tokens_out else None, tps)
            measurements.append((str(m["device_id"]), str(m["model"]), tps or None, overhead))
        if measurements:
            await self.store.update_stats(measurements)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


class RoutingService(FleetReader):
    def __init__(
        self,
        store: RoutingStore,
        queue: QueueService,
        config: RoutingConfig,
        *,
        breakers: BreakerStore | None = None,
    ) -> None:
        super().__init__(store, config)
        self._queue = queue
        self._breakers = breakers

    async def request(self, req: LlmRequest) -> RouteResult:
        """Routes and enqueues one smart request. Raises InvalidInput (422) / NoRoute (503)
        naming what is missing; then nothing is enqueued."""
        return await self.request_shaped(lambda _fleet: req)

    async def request_shaped(
        self,
        make: Callable[[Fleet], LlmRequest],
        shape: Callable[[Decision], dict[str, Any]] | None = None,
        *,
        job_id: uuid.UUID | None = None,
    ) -> RouteResult:
        """As request(), for callers that build the request from the fleet (which models
        exist) and shape the payload once the provider is chosen (the compatible APIs).
        `job_id`: the new job's id, for a caller that watches it already."""
        fleet = await self.fleet()
        req = make(fleet)
        decision = route(req, fleet)
        if shape is not None:
            decision.payload = shape(decision)
        elif req.stream and req.task != "embed":
            decision.payload = {**decision.payload, "stream": True}
        pinned = decision.candidates is None and decision.device_id is not None
        fallback = None
        if req.constraints.fallback and decision.provider == "ollama" and self._breakers:
            cloud = cloud_fallback(req, fleet)
            if cloud is not None:
                if shape is not None:
                    cloud.payload = shape(cloud)
                fallback = JobFallback(
                    kind=cloud.kind,
                    provider=cloud.provider,
                    model=cloud.model,
                    payload=cloud.payload,
                )
                decision.reason.extend(cloud.reason)
            else:
                decision.reason.append("fallback: no live cloud to fall back to")
        job = NewJob(
            kind=decision.kind,
            payload=decision.payload,
            priority=req.priority,
            source=req.source,
            provider=decision.provider,
            model=decision.model,
            device_id=decision.device_id if pinned else None,
            device_candidates=tuple(decision.candidates) if decision.candidates else None,
            fallback=fallback,
            id=job_id,
        )
        # One statement writes the job and its fallback: no moment without the fallback.
        submitted = (await self._queue.enqueue([job]))[0].job
        log.info(
            "routed to %s (%s, %s)",
            decision.provider,
            decision.kind,
            decision.model,
            extra={"job_id": str(submitted.id), "device_id": decision.device_id},
        )
        return RouteResult(
            job_id=str(submitted.id),
            provider=decision.provider,
            kind=decision.kind,
            model=decision.model,
            device_id=decision.device_id,
            reason=decision.reason,
        )

    async def run_benchmarks(self, body: BenchmarkRun) -> dict[str, Any]:
        """Enqueues `runs` benchmark jobs pinned to the device; InvalidInput when the device
        is unknown, lacks the model, or its limits forbid it."""
        fleet = await self.fleet()
        device = fleet.device(body.device_id)
        if device is None:
            raise InvalidInput(f"device {body.device_id} is not a known Ollama device")
        if device.models and body.model not in device.models:
            raise InvalidInput(f"device {body.device_id} does not have model {body.model}")
        violation = limit_violation(fleet, device.id, body.model)
        if violation:
            raise InvalidInput(f"device {device.id} may not run {body.model}: {violation}")
        kind = benchmark_kind(body.task_type)
        if kind not in fleet.live_kinds:
            log.warning("no live worker runs %s; benchmark jobs wait in the queue", kind)
        payload = {"model": body.model, "prompt": body.prompt}
        jobs = [
            NewJob(
                kind=kind,
                payload=payload,
                priority=body.priority,
                source="benchmark",
                provider="ollama",
                model=body.model,
                device_id=device.id,
            )
            for _ in range(body.runs)
        ]
        results = await self._queue.enqueue(jobs)
        return {
            "job_ids": [str(r.job.id) for r in results],
            "device_id": device.id,
            "model": body.model,
            "kind": kind,
        }

    async def list_benchmarks(self, limit: int) -> list[dict[str, Any]]:
        rows = await self.store.recent_benchmarks(limit)
        for row in rows:
            for key, value in list(row.items()):
                if isinstance(value, uuid.UUID):
                    row[key] = str(value)
                elif hasattr(value, "isoformat"):
                    row[key] = value.isoformat()
        return rows

    async def report_benchmark(self, record: BenchmarkRecord) -> int:
        """Raises InvalidInput without model/task_type, JobNotFound for a job that is not ours."""
        if not record.model or not record.task_type:
            raise InvalidInput("a benchmark needs model and task_type")
        if record.job_id is not None:
            await self._queue.get(record.job_id)
        return await self.store.add_benchmark(record)
