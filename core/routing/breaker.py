"""Circuit breakers of devices and cloud providers: what a state means for routing. Pure.

A target fails N times in a row -> open for a cool-down (routing skips it, the claim gives
it no jobs) -> half-open (one probe job at a time) -> a success closes it, a failure reopens
it. The state lives in Postgres (table breakers), so every core replica agrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
CLOUD_PROVIDERS = ("openai", "openrouter")


def device_target(device_id: str) -> str:
    return f"device:{device_id}"


def provider_target(provider: str) -> str:
    return f"provider:{provider}"


@dataclass(frozen=True)
class Breaker:
    target: str
    failures: int = 0
    open_until: datetime | None = None
    opened_at: datetime | None = None
    last_error: str | None = None

    def state(self, now: datetime) -> str:
        if self.open_until is None:
            return CLOSED
        return OPEN if self.open_until > now else HALF_OPEN

    def view(self, now: datetime) -> dict[str, Any]:
        return {
            "state": self.state(now),
            "failures": self.failures,
            "open_until": self.open_until.isoformat() if self.open_until else None,
            "last_error": self.last_error,
        }


def capacity_under(state: str, capacity: int) -> int:
    """A device's job slots under its breaker: none while open, one probe while half-open."""
    if state == OPEN:
        return 0
    if state == HALF_OPEN:
        return min(capacity, 1)
    return capacity


def failure_target(kind: str, device_id: str | None, provider: str | None) -> str | None:
    """Whose breaker a failed job counts against: its device, else its cloud provider."""
    if kind.startswith("benchmark."):
        return None
    if device_id and kind.startswith("ollama."):
        return device_target(device_id)
    if provider in CLOUD_PROVIDERS:
        return provider_target(provider)
    return None


def success_targets(metrics: Any) -> list[str]:
    """Breakers a finished job's metrics close (its device, or its cloud provider)."""
    if not isinstance(metrics, dict):
        return []
    if metrics.get("device_id"):
        return [device_target(str(metrics["device_id"]))]
    if metrics.get("provider") in CLOUD_PROVIDERS:
        return [provider_target(str(metrics["provider"]))]
    return []
