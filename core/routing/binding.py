"""Late binding: which queued device-bound jobs a claim takes, and on which device. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from proto.contract import NUM_CTX_LIMIT, OLLAMA_ADDR, OLLAMA_HOST


@dataclass(frozen=True)
class QueuedJob:
    id: Any
    device_id: str | None
    candidates: tuple[str, ...] | None


@dataclass(frozen=True)
class Slot:
    device_id: str
    online: bool
    running: int
    capacity: int
    ollama_addr: str | None = None
    ollama_host: str | None = None
    num_ctx_limit: int | None = None

    def device_fields(self) -> dict[str, Any]:
        fields = {
            OLLAMA_ADDR: self.ollama_addr,
            OLLAMA_HOST: self.ollama_host,
            NUM_CTX_LIMIT: self.num_ctx_limit,
        }
        return {k: v for k, v in fields.items() if v is not None}


def assign_devices(
    jobs: Sequence[QueuedJob], slots: Sequence[Slot], *, max_jobs: int
) -> list[tuple[QueuedJob, Slot | None]]:
    """Jobs to claim, in claim order, each with the device it binds to (None: not bound).

    A job pinned to a device waits for a free slot there; a late-bound job (one with
    candidates, also when a previous attempt bound it) takes the first of its candidates that
    is online with a free slot; a job with neither runs unbound. No device gets more running
    jobs than its capacity.
    """
    by_id = {s.device_id: s for s in slots}
    free = {s.device_id: s.capacity - s.running for s in slots}
    chosen: list[tuple[QueuedJob, Slot | None]] = []
    for job in jobs:
        if len(chosen) >= max_jobs:
            break
        if job.device_id and not job.candidates:
            slot = by_id.get(job.device_id)
            # A device no longer known waits for discovery to bring it back: never run it
            # on some other Ollama.
            if slot is not None and free[slot.device_id] > 0:
                free[slot.device_id] -= 1
                chosen.append((job, slot))
            continue
        if job.candidates:
            for device_id in job.candidates:
                slot = by_id.get(device_id)
                if slot is not None and slot.online and free[device_id] > 0:
                    free[device_id] -= 1
                    chosen.append((job, slot))
                    break
            continue
        chosen.append((job, None))
    return chosen
