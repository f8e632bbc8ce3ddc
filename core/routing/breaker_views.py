"""Breaker states beside the devices view (GET /v1/devices)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.routing.breaker import Breaker, device_target
from core.routing.breaker_store import BreakerStore


def _closed(target: str) -> Breaker:
    return Breaker(target=target)


async def with_breakers(store: BreakerStore, view: dict[str, Any]) -> dict[str, Any]:
    """Adds `breaker` to each device and `providers` (cloud breakers) to the view."""
    now = datetime.now(UTC)
    breakers = {b.target: b for b in await store.all()}
    for device in view.get("devices", []):
        target = device_target(str(device.get("id")))
        device["breaker"] = breakers.get(target, _closed(target)).view(now)
    view["providers"] = {
        b.target.removeprefix("provider:"): b.view(now)
        for b in breakers.values()
        if b.target.startswith("provider:")
    }
    return view
