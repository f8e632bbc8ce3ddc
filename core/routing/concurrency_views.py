"""Per-device concurrency in force, beside the devices view (GET /v1/devices)."""

from __future__ import annotations

from typing import Any

from core.routing.breaker import CLOSED, capacity_under


async def with_concurrency(default_capacity: int, view: dict[str, Any]) -> dict[str, Any]:
    """Adds `concurrency` to each device: `max` (its limits' max_concurrency, else
    DEVICE_MAX_CONCURRENCY), `from` (which of the two), `now` (slots its breaker leaves
    open: 0 while open, 1 while half-open) and `running` (jobs pinned to it).
    Runs after with_breakers, whose `breaker` it reads."""
    for device in view.get("devices", []):
        limits = device.get("limits") or {}
        own = limits.get("max_concurrency")
        capacity = own or default_capacity
        state = (device.get("breaker") or {}).get("state", CLOSED)
        device["concurrency"] = {
            "max": capacity,
            "from": f"limits {limits['device_id']!r}" if own else "DEVICE_MAX_CONCURRENCY",
            "now": capacity_under(state, capacity),
            "running": device.get("load", 0),
        }
    return view
