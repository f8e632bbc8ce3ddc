"""Validated inputs of the fleet endpoints and RPCs."""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.errors import InvalidInput

MAX_MEMORY_GB = 65536.0


class DeviceOffline(BaseModel):
    """The body of POST /v1/devices/offline (worker_id optional)."""

    model_config = ConfigDict(extra="forbid")

    device_id: str = Field(min_length=1, max_length=300)
    reason: str = Field("", max_length=2000)
    worker_id: str | None = Field(None, max_length=200)


def memory_from_metrics(metrics: dict[str, Any]) -> tuple[float | None, float | None]:
    """(ram_gb, vram_gb) a metrics report carries; InvalidInput when one is not a sane number."""
    values: list[float | None] = []
    for key in ("ram_gb", "vram_gb"):
        value = metrics.get(key)
        if value is None:
            values.append(None)
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not 0 < value <= MAX_MEMORY_GB
        ):
            raise InvalidInput(f"metrics.{key} must be a number of GB in (0, {MAX_MEMORY_GB:g}]")
        values.append(float(value))
    return values[0], values[1]
