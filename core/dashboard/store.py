"""All SQL of the status snapshot: one consistent read of jobs, devices, benchmarks, workers."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from core.dashboard.models import (
    DeviceLoad,
    KindOutcomes,
    LatestBenchmark,
    LiveWorker,
    RunningJob,
    StatusSnapshot,
)
from core.db.queries import load_queries
from core.errors import StoreUnavailable

Q = load_queries(Path(__file__).with_name("dashboard.sql"))

THROUGHPUT_WINDOW_SECONDS = 60.0
# Done/error/canceled are counted over this window, never over the whole (large) table.
FINISHED_WINDOW_SECONDS = 3600.0
MAX_RUNNING_JOBS = 50
MAX_DEVICES = 200
MAX_BENCHMARKS = 50
MAX_WORKERS = 200
OUTCOMES_PER_KIND = 20
OUTCOMES_SCAN = 500  # newest finished jobs read for per-kind fail streaks
BENCHMARKS_SCAN = 2000  # newest benchmarks read for "latest per (device, model)"


def _outcomes_by_kind(rows: list[asyncpg.Record]) -> list[KindOutcomes]:
    """Per kind, its newest statuses (at most OUTCOMES_PER_KIND) and newest error."""
    statuses: dict[str, list[str]] = {}
    errors: dict[str, str | None] = {}
    for row in rows:  # newest first
        kind = row["kind"]
        seen = statuses.setdefault(kind, [])
        if len(seen) < OUTCOMES_PER_KIND:
            seen.append(row["status"])
        if row["status"] == "error" and kind not in errors:
            errors[kind] = row["error"]
    return [
        KindOutcomes(kind=k, statuses=tuple(v), last_error=errors.get(k))
        for k, v in sorted(statuses.items())
    ]


class DashboardStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def read_snapshot(
        self, *, worker_live_seconds: float, device_max_concurrency: int
    ) -> StatusSnapshot:
        """Reads every part in one repeatable-read transaction, so the parts agree.

        Raises StoreUnavailable when the database cannot be reached.
        """
        try:
            async with self._pool.acquire() as conn:
                async with conn.transaction(isolation="repeatable_read", readonly=True):
                    return await self._read(conn, worker_live_seconds, device_max_concurrency)
        except (OSError, asyncpg.InterfaceError, asyncpg.CannotConnectNowError) as exc:
            raise StoreUnavailable(f"database unavailable: {exc}") from exc

    @staticmethod
    async def _finished_since(conn: asyncpg.Connection, seconds: float) -> dict[str, int]:
        rows = await conn.fetch(Q["job_count_finished_since"], seconds)
        return {r["status"]: r["n"] for r in rows}

    async def _read(
        self, conn: asyncpg.Connection, live_seconds: float, device_limit: int
    ) -> StatusSnapshot:
        now = await conn.fetchval(Q["snapshot_clock"])
        active = await conn.fetchrow(Q["job_count_active"])
        last_hour = await self._finished_since(conn, FINISHED_WINDOW_SECONDS)
        by_status = {"queued": active["queued"], "running": active["running"], **last_hour}
        finished = await self._finished_since(conn, THROUGHPUT_WINDOW_SECONDS)
        oldest = await conn.fetchval(Q["job_get_oldest_queued_age"])
        running = [
            RunningJob(
                id=str(r["id"]),
                kind=r["kind"],
                device_id=r["device_id"],
                worker_id=r["worker_id"],
                model=r["model"],
                provider=r["provider"],
                running_seconds=max(0.0, r["running_seconds"] or 0.0),
            )
            for r in await conn.fetch(Q["job_list_running"], MAX_RUNNING_JOBS)
        ]
        load = {r["device_id"]: r["n"] for r in await conn.fetch(Q["job_count_running_by_device"])}
        devices = [
            DeviceLoad(
                id=r["id"],
                name=r["name"] or r["host_name"],
                online=r["online"],
                running=load.get(r["id"], 0),
                limit=device_limit,
                last_seen_at=r["last_seen_at"],
                offline_reason=r["offline_reason"],
                offline_at=r["offline_at"],
                ollama_latency_ms=r["ollama_latency_ms"],
            )
            for r in await conn.fetch(Q["device_list_for_snapshot"], MAX_DEVICES)
        ]
        benchmarks = [
            LatestBenchmark(**dict(r))
            for r in await conn.fetch(
                Q["benchmark_list_latest_per_device_model"], MAX_BENCHMARKS, BENCHMARKS_SCAN
            )
        ]
        workers = [
            LiveWorker(
                id=r["id"],
                name=r["name"],
                host=r["host"],
                kinds=tuple(r["kinds"] or ()),
                last_seen_seconds=max(0.0, r["last_seen_seconds"]),
                running=r["running"],
            )
            for r in await conn.fetch(Q["worker_list_live"], float(live_seconds), MAX_WORKERS)
        ]
        outcomes = _outcomes_by_kind(await conn.fetch(Q["job_list_recent_outcomes"], OUTCOMES_SCAN))
        return StatusSnapshot(
            generated_at=now,
            jobs_by_status=by_status,
            finished_last_minute=finished,
            oldest_queued_seconds=oldest,
            running_jobs=tuple(running),
            devices=tuple(devices),
            benchmarks=tuple(benchmarks),
            workers=tuple(workers),
            recent_outcomes=tuple(outcomes),
            device_max_concurrency=device_limit,
        )
