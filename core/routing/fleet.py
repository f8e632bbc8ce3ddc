"""What routing knows of the fleet at one moment, as plain data (built by the routing store)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from core.routing.limits import LimitsTable, ModelFacts


@dataclass(frozen=True)
class Device:
    id: str
    online: bool
    ollama_addr: str | None
    ollama_host: str | None = None
    # Models the device has now, by name.
    models: Mapping[str, ModelFacts] = field(default_factory=dict)
    running: int = 0
    ips: tuple[str, ...] = ()
    base_device_id: str | None = None


@dataclass(frozen=True)
class Stats:
    """Measured figures of one (device, model): generation speed and fixed overhead."""

    tps: float | None
    latency_ms: float | None
    samples: int = 0

    def expected_ms(self, max_tokens: int) -> float | None:
        if not self.tps:
            return None
        return (self.latency_ms or 0.0) + max_tokens / self.tps * 1000.0


@dataclass(frozen=True)
class DefaultModels:
    ollama: str = "llama3.2:1b"
    ollama_embed: str = "nomic-embed-text"
    openai: str = "gpt-4o-mini"
    openrouter: str = "google/gemini-2.0-flash"


@dataclass(frozen=True)
class Fleet:
    live_kinds: frozenset[str]
    devices: tuple[Device, ...] = ()
    limits: LimitsTable = field(default_factory=LimitsTable)
    stats: Mapping[tuple[str, str], Stats] = field(default_factory=dict)
    defaults: DefaultModels = field(default_factory=DefaultModels)
    strict_limits: bool = False
    # Breakers that are not closed, by target ("device:<id>", "provider:<name>"): why, starting
    # with "open" (cooling down: skip it) or "half_open" (may take a probe job).
    breakers: Mapping[str, str] = field(default_factory=dict)

    def circuit_open(self, target: str) -> str | None:
        """Why `target` must be skipped now (its breaker is open), else None."""
        why = self.breakers.get(target)
        return why if why and why.startswith("open") else None

    @property
    def ollama_devices(self) -> tuple[Device, ...]:
        return tuple(d for d in self.devices if d.ollama_addr)

    def device(self, device_id: str) -> Device | None:
        return next((d for d in self.devices if d.id == device_id), None)

    def catalog(self) -> set[str]:
        return {m for d in self.ollama_devices for m in d.models}
