"""What the Ollama API asks of the devices themselves rather than of a job: a model's details
(/api/show), what each device holds loaded (/api/ps), and pulling a model onto one (/api/pull).

Only devices the fleet knows are asked (never an address from the request). The choices are
pure (device_with_model, pull_target); the calls are a thin shell over one HTTP client.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from core.errors import InvalidInput, UnknownModel
from core.routing.devices import limit_violation
from core.routing.fleet import Device, Fleet
from core.routing.model_names import catalog_name, with_tag
from serving.tls import client_tls


def device_with_model(fleet: Fleet, model: str) -> tuple[Device, str]:
    """An online device that has `model`, and the device's spelling of it; UnknownModel else."""
    for device in sorted(fleet.ollama_devices, key=lambda d: (not d.online, d.running, d.id)):
        name = catalog_name(model, device.models)
        if name and device.online:
            return device, name
    raise UnknownModel(model, "no online device has it")


def pull_target(fleet: Fleet, model: str, device_id: str | None) -> Device:
    """The device to pull onto: the one named, else the least busy online device whose limits
    allow the model. InvalidInput naming what is wrong."""
    if device_id is not None:
        device = fleet.device(device_id)
        if device is None or not device.ollama_addr:
            raise InvalidInput(f"device: {device_id!r} is not a known Ollama device")
        if not device.online:
            raise InvalidInput(f"device: {device_id} is offline")
        if violation := limit_violation(fleet, device.id, with_tag(model)):
            raise InvalidInput(f"device {device.id} may not run {model}: {violation}")
        return device
    allowed = [
        d
        for d in fleet.ollama_devices
        if d.online and not limit_violation(fleet, d.id, with_tag(model))
    ]
    if not allowed:
        raise InvalidInput(f"no online device may run {model} (offline, or excluded by limits)")
    return min(allowed, key=lambda d: (d.running, len(d.models), d.id))


def _base(device: Device) -> str:
    addr = (device.ollama_addr or "").rstrip("/")
    return addr if "://" in addr else f"http://{addr}"


class OllamaDevices:
    def __init__(self, *, timeout: float = 10.0) -> None:
        # trust_env=False: a proxy meant for the internet must not catch tailnet hosts.
        self._client = httpx.AsyncClient(timeout=timeout, trust_env=False, verify=client_tls())

    async def aclose(self) -> None:
        await self._client.aclose()

    async def show(self, device: Device, body: dict[str, Any]) -> tuple[int, Any]:
        """(status, JSON answer) of the device's /api/show."""
        answer = await self._client.post(f"{_base(device)}/api/show", json=body)
        try:
            return answer.status_code, answer.json()
        except ValueError:
            return 502, {"error": f"device {device.id} answered /api/show with no JSON"}

    async def loaded(self, fleet: Fleet) -> list[dict[str, Any]]:
        """Every online device's /api/ps models, each with its `device`; a device that does not
        answer is left out (its models are not known to be loaded)."""

        async def one(device: Device) -> list[dict[str, Any]]:
            try:
                answer = await self._client.get(f"{_base(device)}/api/ps", timeout=3.0)
                answer.raise_for_status()
                models = answer.json().get("models") or []
            except (httpx.HTTPError, ValueError, AttributeError):
                return []
            return [{**m, "device": device.id} for m in models if isinstance(m, dict)]

        online = [d for d in fleet.ollama_devices if d.online]
        found = await asyncio.gather(*(one(d) for d in online))
        return [m for models in found for m in models]

    async def pull(self, device: Device, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """The device's /api/pull progress objects as they come (`{"error": ...}` on failure)."""
        url = f"{_base(device)}/api/pull"
        timeout = httpx.Timeout(10.0, read=None)  # a pull of a large model takes long
        try:
            async with self._client.stream("POST", url, json=body, timeout=timeout) as answer:
                async for line in answer.aiter_lines():
                    if not line.strip():
                        continue
                    try:
                        item = json.loads(line)
                    except ValueError:
                        yield {"error": f"device {device.id} sent a line that is not JSON"}
                        return
                    if isinstance(item, dict):
                        yield item
        except httpx.HTTPError as exc:
            yield {"error": f"device {device.id}: {type(exc).__name__}: {exc}"}
