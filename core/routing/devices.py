"""Which devices may run a model, best first; and which device an address names. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from core.routing.fleet import Device, Fleet
from core.routing.limits import ModelFacts, check_model


@dataclass
class Ranking:
    eligible: list[Device] = field(default_factory=list)
    # (device id, why it was left out)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    # Only the limit violations: what a 422 names when every device is excluded by limits.
    limit_violations: list[tuple[str, str]] = field(default_factory=list)
    # Devices skipped because their circuit breaker is open.
    degraded: list[str] = field(default_factory=list)


def model_facts(fleet: Fleet, model: str, device: Device | None = None) -> ModelFacts:
    if device is not None and model in device.models:
        return device.models[model]
    for d in fleet.ollama_devices:
        if model in d.models:
            return d.models[model]
    return ModelFacts(name=model)


def limit_violation(fleet: Fleet, device_id: str, model: str) -> str | None:
    device = fleet.device(device_id)
    return check_model(
        fleet.limits.for_device(device_id, device.base_device_id if device else None),
        model_facts(fleet, model, device),
        strict=fleet.strict_limits,
    )


def _sort_key(fleet: Fleet, model: str, device: Device) -> tuple[float, float, int, str]:
    stats = fleet.stats.get((device.id, model))
    tps = stats.tps if stats and stats.tps else 0.0
    latency = stats.latency_ms if stats and stats.latency_ms is not None else float("inf")
    return (-tps, latency, device.running, device.id)


def rank_devices(fleet: Fleet, model: str) -> Ranking:
    """Devices that are online, have the model and pass their limits: best tokens/s first,
    then lower latency, then fewer running jobs."""
    ranking = Ranking()
    for device in fleet.ollama_devices:
        if not device.online:
            ranking.rejected.append((device.id, "offline"))
            continue
        if model not in device.models:
            ranking.rejected.append((device.id, f"does not have {model}"))
            continue
        circuit = fleet.circuit_open(f"device:{device.id}")
        if circuit:
            ranking.rejected.append((device.id, f"circuit {circuit}"))
            ranking.degraded.append(device.id)
            continue
        violation = limit_violation(fleet, device.id, model)
        if violation:
            ranking.rejected.append((device.id, violation))
            ranking.limit_violations.append((device.id, violation))
            continue
        ranking.eligible.append(device)
    ranking.eligible.sort(key=lambda d: _sort_key(fleet, model, d))
    return ranking


def _host_of(value: str) -> str:
    text = value.strip()
    if "://" not in text:
        text = f"http://{text}"
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return ""
    return f"{host}:{port or 11434}".lower()


def device_for_address(fleet: Fleet, value: str) -> Device | None:
    """The known device an `ollama_addr` / `ollama_host` / base URL points at, if any."""
    wanted = value.strip().rstrip("/").lower()
    target = _host_of(value)
    for device in fleet.ollama_devices:
        names = {device.id.lower(), device.id.lower().rstrip(".")}
        if device.ollama_host:
            names.add(device.ollama_host.lower())
        if wanted in names or wanted.rstrip(".") in names:
            return device
        if device.ollama_addr and (
            wanted == device.ollama_addr.rstrip("/").lower()
            or target == _host_of(device.ollama_addr)
        ):
            return device
    return None
