"""Reads of the fleet for GET /v1/devices and GET /v1/models (rows as plain dicts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.db.queries import load_queries
from core.db.store import PoolStore

Q = load_queries(Path(__file__).with_name("catalog.sql"))


@dataclass(frozen=True)
class FleetSnapshot:
    """Everything the device view needs, read in one repeatable-read transaction."""

    devices: list[dict[str, Any]]
    models_by_device: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    limits: dict[str, dict[str, Any]] = field(default_factory=dict)
    benchmarks_by_device: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


class CatalogStore(PoolStore):
    async def snapshot(self, *, online_only: bool) -> FleetSnapshot:
        async with self._conn() as conn, conn.transaction(isolation="repeatable_read"):
            devices = [dict(r) for r in await conn.fetch(Q["device_list"], online_only)]
            models = await conn.fetch(Q["device_model_list_available"])
            limits = await conn.fetch(Q["device_limits_list"])
            benchmarks = await conn.fetch(Q["benchmark_list_latest_per_device_model"])
        snapshot = FleetSnapshot(devices=devices, limits={r["device_id"]: dict(r) for r in limits})
        for row in models:
            snapshot.models_by_device.setdefault(row["device_id"], []).append(dict(row))
        for row in benchmarks:
            snapshot.benchmarks_by_device.setdefault(row["device_id"], []).append(dict(row))
        return snapshot

    async def models(self) -> list[dict[str, Any]]:
        async with self._conn() as conn:
            return [dict(r) for r in await conn.fetch(Q["model_list"])]
