"""Checks a raw job (POST /v1/jobs, SubmitJob) against the fleet before it is queued. Pure.

- An address in the payload (`ollama_addr`, `ollama_host`, a base URL) must be a known
  device, or the job is refused: no requests to arbitrary hosts through payloads.
- A device-bound job naming a device (field `device_id` or an address) must be allowed to
  run its model there (device limits); a violation is refused naming the limit.
- A device-bound job naming no device gets the eligible devices as candidates, so the
  claim binds it to the first one with a free slot.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from core.errors import InvalidInput
from core.queue.models import NewJob
from core.routing.devices import device_for_address, limit_violation, rank_devices
from core.routing.fleet import Fleet
from proto.contract import ADDRESS_KEYS, DEVICE_KINDS


def needs_fleet(job: NewJob) -> bool:
    return job.kind in DEVICE_KINDS or any(k in job.payload for k in ADDRESS_KEYS)


def job_model(job: NewJob, fleet: Fleet) -> str:
    model = job.payload.get("model")
    if isinstance(model, str) and model:
        return model
    if job.model:
        return job.model
    embed = job.kind.endswith(".embed")
    return fleet.defaults.ollama_embed if embed else fleet.defaults.ollama


def _addressed_device(payload: dict[str, Any], fleet: Fleet) -> str | None:
    found: str | None = None
    for key in ADDRESS_KEYS:
        value = payload.get(key)
        if value is None:
            continue
        device = device_for_address(fleet, str(value))
        if device is None:
            raise InvalidInput(f"payload {key} {value!r} is not a known device")
        if found is not None and device.id != found:
            raise InvalidInput(f"payload addresses two devices: {found} and {device.id}")
        found = device.id
    return found


def admit_job(job: NewJob, fleet: Fleet) -> NewJob:
    """The job as it will be queued; InvalidInput (422) when it must be refused."""
    addressed = _addressed_device(job.payload, fleet)
    if job.device_id and addressed and job.device_id != addressed:
        raise InvalidInput(f"device_id {job.device_id} and the payload address disagree")
    device_id = job.device_id or addressed
    if job.kind not in DEVICE_KINDS:
        return job
    model = job_model(job, fleet)
    if device_id:
        if fleet.device(device_id) is None:
            raise InvalidInput(f"device {device_id} is not a known Ollama device")
        violation = limit_violation(fleet, device_id, model)
        if violation:
            raise InvalidInput(f"device {device_id} may not run {model}: {violation}")
        return dataclasses.replace(job, device_id=device_id, provider="ollama", model=model)
    if not fleet.ollama_devices:
        return job  # no fleet known: the worker's OLLAMA_BASE_URL serves it
    ranking = rank_devices(fleet, model)
    if not ranking.eligible:
        if not any(model in d.models for d in fleet.ollama_devices):
            raise InvalidInput(f"no device has model {model}")
        if ranking.limit_violations:
            names = "; ".join(f"{d}: {why}" for d, why in ranking.limit_violations)
            raise InvalidInput(f"every device with {model} is excluded by limits ({names})")
        # Only offline ones: queue it anyway, bound when a device is back.
        return dataclasses.replace(
            job,
            provider="ollama",
            model=model,
            device_candidates=tuple(
                d.id
                for d in fleet.ollama_devices
                if model in d.models and not limit_violation(fleet, d.id, model)
            ),
        )
    return dataclasses.replace(
        job,
        provider="ollama",
        model=model,
        device_candidates=tuple(d.id for d in ranking.eligible),
    )
