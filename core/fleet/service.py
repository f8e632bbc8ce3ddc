"""What HTTP and gRPC call for the fleet: discovery, device signals, devices and models."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from core.bounds import bounded_document
from core.errors import DeviceNotFound, InvalidInput
from core.fleet.catalog_store import CatalogStore
from core.fleet.device_store import DeviceStore
from core.fleet.discovery import Discovery
from core.fleet.discovery_store import DiscoveryStore
from core.fleet.schemas import DeviceOffline, memory_from_metrics
from core.fleet.views import devices_view, discovery_run_view, models_view

log = logging.getLogger(__name__)

MAX_WORKER_ID_CHARS = 200


ViewExtra = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class FleetService:
    def __init__(
        self,
        *,
        devices: DeviceStore,
        catalog: CatalogStore,
        runs: DiscoveryStore,
        discovery: Discovery,
    ) -> None:
        self._devices = devices
        self._catalog = catalog
        self._runs = runs
        self.discovery = discovery
        # What other parts add to the views (breakers, OpenAI's model list), HTTP and gRPC alike.
        self.device_view_extras: list[ViewExtra] = []
        self.model_view_extras: list[ViewExtra] = []

    async def run_discovery(self) -> dict[str, Any]:
        """Runs a round now (waiting for one another replica is running) and returns it."""
        return discovery_run_view(await self.discovery.run_once(wait=True))

    async def last_discovery(self) -> dict[str, Any]:
        return discovery_run_view(await self._runs.last())

    async def list_devices(self, *, online_only: bool = False) -> dict[str, Any]:
        view = devices_view(await self._catalog.snapshot(online_only=online_only))
        for extra in self.device_view_extras:
            view = await extra(view)
        return view

    async def list_models(self) -> dict[str, Any]:
        view = models_view(await self._catalog.models())
        for extra in self.model_view_extras:
            view = await extra(view)
        return view

    async def mark_offline(self, request: DeviceOffline) -> dict[str, Any]:
        """A worker could not connect to the device; raises DeviceNotFound when unknown."""
        reason = request.reason or "reported offline"
        if not await self._devices.mark_offline(request.device_id, reason):
            raise DeviceNotFound(request.device_id)
        log.warning(
            "device reported offline: %s",
            reason,
            extra={"device_id": request.device_id, "worker_id": request.worker_id},
        )
        return {"ok": True, "device_id": request.device_id, "online": False, "reason": reason}

    async def report_metrics(
        self, *, worker_id: str | None, device_id: str | None, metrics: dict[str, Any]
    ) -> None:
        """Stores a worker's metrics for a device; ram_gb / vram_gb also go on the device.

        Metrics without a device are only logged (device_metrics is per device).
        """
        if worker_id is not None and len(worker_id) > MAX_WORKER_ID_CHARS:
            raise InvalidInput(f"worker_id is longer than {MAX_WORKER_ID_CHARS} characters")
        try:
            bounded_document("metrics", metrics)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        ram_gb, vram_gb = memory_from_metrics(metrics)
        if not device_id:
            log.info("worker metrics without a device", extra={"worker_id": worker_id})
            return
        if len(device_id) > 300:
            raise InvalidInput("device_id is longer than 300 characters")
        known = await self._devices.record_metrics(
            device_id=device_id,
            worker_id=worker_id,
            metrics=metrics,
            ram_gb=ram_gb,
            vram_gb=vram_gb,
        )
        if not known:
            log.info(
                "memory reported for a device discovery has not seen yet",
                extra={"worker_id": worker_id, "device_id": device_id},
            )
