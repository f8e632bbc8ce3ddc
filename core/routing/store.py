"""All SQL of routing (fleet.sql, claim.sql). Returns our types; asyncpg stays in here."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import asyncpg

from core.db.queries import load_queries
from core.db.store import PoolStore
from core.queue.models import Claimed
from core.queue.store import claim_chosen
from core.routing.binding import QueuedJob, Slot, assign_devices
from core.routing.breaker import capacity_under
from core.routing.fleet import DefaultModels, Device, Fleet, Stats
from core.routing.limits import DeviceLimits, LimitsError, LimitsTable, ModelFacts, parse_entry
from proto.contract import DEVICE_KINDS

_DIR = Path(__file__).parent
Q = load_queries(_DIR / "fleet.sql") | load_queries(_DIR / "claim.sql")
_DEVICE_KINDS = sorted(DEVICE_KINDS)
# How many queued device-bound jobs one claim looks at to find ones with a free device.
CLAIM_SCAN = 200


@dataclass(frozen=True)
class BenchmarkRecord:
    job_id: Any
    device_id: str | None
    provider: str
    model: str
    task_type: str
    tokens_in: int | None
    tokens_out: int | None
    latency_ms: float | None
    tps: float | None
    ok: bool = True
    error: str | None = None


def _limits_of(row: Mapping[str, Any] | None) -> DeviceLimits | None:
    """One device_limits row (auto rules applied); None for no row or one we cannot read."""
    if not row:
        return None
    raw = {
        k: (list(v) if isinstance(v, list | tuple) else v)
        for k, v in dict(row).items()
        if k not in ("device_id", "source", "updated_at") and v is not None
    }
    try:
        return parse_entry(f"device_limits[{row['device_id']!r}]", raw)
    except LimitsError:
        return None  # a hand-edited row we cannot read limits nothing rather than everything


def _limits_from_rows(rows: Sequence[Mapping[str, Any]]) -> LimitsTable:
    table = {row["device_id"]: _limits_of(row) for row in rows}
    return LimitsTable({k: v for k, v in table.items() if v is not None})


def overhead_ms(
    latency_ms: float | None, tokens_out: int | None, tps: float | None
) -> float | None:
    """The part of a run's latency that is not generation (load, prompt): what routing adds
    to max_tokens/tps when it predicts a finish time."""
    if latency_ms is None:
        return None
    if tps and tokens_out:
        return max(latency_ms - tokens_out / tps * 1000.0, 0.0)
    return latency_ms


# How long a copy of the fleet's devices, models, limits and estimates serves routing while
# the fleet version stays put: estimates change with finished jobs without moving it.
FLEET_COPY_MAX_AGE = 2.0


@dataclass(frozen=True)
class _FleetCopy:
    """The part of a fleet snapshot that changes only with the fleet version (or slowly)."""

    version: int
    read_at: float
    devices: tuple[Device, ...]
    limits: LimitsTable
    stats: Mapping[tuple[str, str], Stats]

    @classmethod
    def of_row(cls, snap: Mapping[str, Any], *, read_at: float) -> _FleetCopy:
        models: dict[str, dict[str, ModelFacts]] = {}
        for m in snap["models"]:
            models.setdefault(m["device_id"], {})[m["model"]] = ModelFacts(
                name=m["model"], params_b=m["params_b"], size_bytes=m["size_bytes"]
            )
        return cls(
            version=snap["version"],
            read_at=read_at,
            devices=tuple(
                Device(
                    id=d["id"],
                    online=d["online"],
                    ollama_addr=d["ollama_addr"],
                    ollama_host=d["ollama_host"],
                    models=models.get(d["id"], {}),
                    ips=tuple(d["ips"] or ()),
                    base_device_id=d.get("base_device_id"),
                )
                for d in snap["devices"]
            ),
            limits=_limits_from_rows(snap["limits"]),
            stats={
                (s["device_id"], s["model"]): Stats(s["tps"], s["latency_ms"], s["samples"])
                for s in snap["stats"]
            },
        )


class RoutingStore(PoolStore):
    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool)
        self._fleet_copy: _FleetCopy | None = None

    async def load_fleet(
        self, *, live_seconds: float, defaults: DefaultModels, strict_limits: bool
    ) -> Fleet:
        """The fleet now. Devices, models, limits and estimates come from this store's copy
        while the fleet version has not moved and the copy is younger than
        FLEET_COPY_MAX_AGE; workers, running jobs and breakers are read every time."""
        copy = self._fleet_copy
        loop = asyncio.get_running_loop()
        if copy is not None and loop.time() - copy.read_at > FLEET_COPY_MAX_AGE:
            copy = None
        async with self._conn() as conn:
            snap = await conn.fetchrow(
                Q["fleet_snapshot"],
                float(live_seconds),
                _DEVICE_KINDS,
                copy.version if copy is not None else None,
            )
        if copy is None or snap["version"] != copy.version:
            copy = _FleetCopy.of_row(snap, read_at=loop.time())
            self._fleet_copy = copy
        running = snap["running"]
        return Fleet(
            live_kinds=frozenset(snap["kinds"]),
            devices=tuple(
                replace(d, running=running[d.id]) if d.id in running else d for d in copy.devices
            ),
            limits=copy.limits,
            stats=copy.stats,
            defaults=defaults,
            strict_limits=strict_limits,
            breakers={
                b["target"]: ("open" if b["cooling"] else "half_open")
                + f" after {b['failures']} failures: {b['last_error'] or ''}".rstrip(": ")
                for b in snap["breakers"]
            },
        )

    async def replace_limits(self, limits: Mapping[str, DeviceLimits], *, source: str) -> None:
        """Makes the limits from `source` exactly `limits` (other sources' rows untouched)."""
        async with self._conn() as conn, conn.transaction():
            await conn.execute(Q["device_limits_delete_missing"], source, list(limits))
            for device_id, lim in limits.items():
                await conn.execute(
                    Q["device_limits_upsert"],
                    device_id,
                    lim.ram_gb,
                    lim.vram_gb,
                    lim.max_params_b,
                    lim.max_size_gb,
                    lim.max_context_k,
                    list(lim.allow_models) if lim.allow_models is not None else None,
                    list(lim.deny_models) if lim.deny_models is not None else None,
                    lim.max_concurrency,
                    source,
                )

    async def add_benchmark(self, record: BenchmarkRecord) -> int:
        """Stores a benchmark and, when it succeeded on a device, folds it into the estimate."""
        async with self._conn() as conn, conn.transaction():
            bench_id = await conn.fetchval(
                Q["benchmark_insert"],
                record.job_id,
                record.device_id,
                record.provider,
                record.model,
                record.task_type,
                record.tokens_in,
                record.tokens_out,
                record.latency_ms,
                record.tps,
                record.ok,
                record.error,
            )
            if record.ok and record.device_id and (record.tps or record.latency_ms):
                await conn.execute(
                    Q["device_model_stats_update"],
                    record.device_id,
                    record.model,
                    record.tps or None,
                    overhead_ms(record.latency_ms, record.tokens_out, record.tps),
                )
        return bench_id

    async def update_stats(
        self, measurements: Sequence[tuple[str, str, float | None, float | None]]
    ) -> None:
        """Folds (device_id, model, tps, overhead_ms) measurements of ordinary jobs in."""
        async with self._conn() as conn:
            await conn.executemany(Q["device_model_stats_update"], measurements)

    async def recent_benchmarks(self, limit: int) -> list[dict[str, Any]]:
        async with self._conn() as conn:
            rows = await conn.fetch(Q["benchmark_list_recent"], limit)
        return [dict(r) for r in rows]

    async def claim_device_jobs(
        self,
        *,
        worker_id: str,
        kinds: Sequence[str],
        lease_seconds: float,
        max_jobs: int,
        default_capacity: int,
    ) -> Claimed:
        """Claims device-bound jobs without ever exceeding a device's capacity (see claim.sql);
        also says whether due jobs were left for want of a free device."""
        async with self._conn() as conn, conn.transaction():
            await conn.execute(Q["device_claim_lock"])
            queued = await conn.fetch(
                Q["job_list_claimable_for_devices"], list(kinds), max(CLAIM_SCAN, max_jobs)
            )
            if not queued:
                return Claimed([], [])
            slot_rows = await conn.fetch(Q["device_list_slots"], _DEVICE_KINDS)
            slots = []
            for r in slot_rows:
                lim = _limits_of(r["limits"])
                capacity = lim.max_concurrency if lim and lim.max_concurrency else default_capacity
                capacity = capacity_under(r["breaker"], capacity)
                slots.append(
                    Slot(
                        device_id=r["id"],
                        online=r["online"],
                        running=r["running"],
                        capacity=capacity,
                        ollama_addr=r["ollama_addr"],
                        ollama_host=r["ollama_host"],
                        num_ctx_limit=lim.num_ctx_limit if lim else None,
                    )
                )
            jobs = [
                QueuedJob(
                    id=r["id"],
                    device_id=r["device_id"],
                    candidates=tuple(r["device_candidates"]) if r["device_candidates"] else None,
                )
                for r in queued
            ]
            chosen = assign_devices(jobs, slots, max_jobs=max_jobs)
            blocked = len(chosen) < min(len(jobs), max_jobs)
            if not chosen:
                return Claimed([], [], devices_busy=blocked)
            claimed = await claim_chosen(
                conn,
                job_ids=[job.id for job, _ in chosen],
                device_ids=[slot.device_id if slot else None for _, slot in chosen],
                device_fields=[slot.device_fields() if slot else {} for _, slot in chosen],
                lease_seconds=lease_seconds,
                worker_id=worker_id,
            )
        return replace(claimed, devices_busy=blocked)
