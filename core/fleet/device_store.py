"""Writes of the fleet: tailnet nodes, Ollama probe results, worker signals and metrics."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.db.queries import load_queries
from core.db.store import PoolStore
from core.fleet.models import OllamaModel, OllamaProbe, ProbeTarget, TailnetNode

Q = load_queries(Path(__file__).with_name("devices.sql"))


def _node_json(node: TailnetNode) -> dict[str, Any]:
    return {
        "id": node.id,
        "name": node.name,
        "host_name": node.host_name,
        "ips": list(node.ips),
        "os": node.os,
        "tags": list(node.tags),
        "online": node.online,
        "last_seen": node.last_seen.isoformat() if node.last_seen else None,
    }


class DeviceStore(PoolStore):
    async def online_ids(self) -> set[str]:
        async with self._conn() as conn:
            return {r["id"] for r in await conn.fetch(Q["device_list_online_ids"])}

    async def models_with_context(self) -> set[str]:
        async with self._conn() as conn:
            return {r["name"] for r in await conn.fetch(Q["model_list_with_context"])}

    async def record_nodes(self, nodes: Sequence[TailnetNode], keep: Sequence[str] = ()) -> None:
        """Upserts the listed nodes; every device whose node is not online goes offline, but
        those in `keep` (the configured Ollama, which tailscale need not list)."""
        online = [n.id for n in nodes if n.online] + list(keep)
        async with self._conn() as conn, conn.transaction():
            if nodes:
                await conn.execute(Q["device_upsert_nodes"], [_node_json(n) for n in nodes])
            await conn.execute(Q["device_set_offline_unless_node"], online)

    async def record_probe(self, probe: OllamaProbe) -> tuple[list[str], list[str], bool]:
        """Applies one probe; returns (models added, models removed, had_ollama_before).

        A failed probe of a device that is not in the table (a port where nothing ever
        answered) writes nothing.
        """
        target = probe.target
        async with self._conn() as conn, conn.transaction():
            if probe.ok:
                node = target.node
                await conn.execute(
                    Q["device_record_ollama"],
                    target.device_id,
                    target.base_device_id,
                    node.name if target.base_device_id is None else f"{node.name}:{target.port}",
                    node.host_name,
                    list(node.ips),
                    node.os,
                    list(node.tags),
                    target.base_url,
                    target.host,
                    probe.version,
                    probe.latency_ms,
                )
                await self._upsert_models(conn, probe.models)
                had_ollama = True
            else:
                row = await conn.fetchrow(
                    Q["device_record_ollama_failure"], target.device_id, probe.error
                )
                if row is None:
                    return [], [], False
                had_ollama = row["had_ollama"]
            changes = await conn.fetch(
                Q["device_model_sync"],
                target.device_id,
                [m.name for m in probe.models],
                [m.size_bytes for m in probe.models],
            )
        added = [r["model"] for r in changes if r["change"] == "added"]
        removed = [r["model"] for r in changes if r["change"] == "removed"]
        return added, removed, had_ollama

    async def record_configured_failure(self, target: ProbeTarget, error: str) -> None:
        """The configured Ollama did not answer: its device is offline, `error` the reason."""
        node = target.node
        async with self._conn() as conn:
            await conn.execute(
                Q["device_record_configured_failure"],
                target.device_id,
                target.base_device_id,
                node.name,
                node.host_name,
                error,
                list(node.ips),
                target.base_url,
                target.host,
            )

    @staticmethod
    async def _upsert_models(conn: Any, models: Sequence[OllamaModel]) -> None:
        if not models:
            return
        await conn.execute(
            Q["model_upsert_many"],
            [m.name for m in models],
            [m.family for m in models],
            [m.parameter_size for m in models],
            [m.params_b for m in models],
            [m.quantization for m in models],
            [m.size_bytes for m in models],
            [m.context_length for m in models],
        )

    async def mark_offline(self, device_id: str, reason: str) -> bool:
        """False when the device is unknown."""
        async with self._conn() as conn:
            return await conn.fetchval(Q["device_mark_offline"], device_id, reason) is not None

    async def record_metrics(
        self,
        *,
        device_id: str,
        worker_id: str | None,
        metrics: dict[str, Any],
        ram_gb: float | None,
        vram_gb: float | None,
    ) -> bool:
        """Stores a metrics report; sets the device's memory when given. False: unknown device."""
        async with self._conn() as conn, conn.transaction():
            await conn.execute(Q["device_metrics_insert"], device_id, worker_id, metrics)
            if ram_gb is None and vram_gb is None:
                return True
            found = await conn.fetchval(Q["device_set_memory"], device_id, ram_gb, vram_gb)
            return found is not None
