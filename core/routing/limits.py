"""Device limits: parsing the operator's JSON, the auto rules, and the check. Pure functions.

A limits document maps a device id (or "*", the default for devices without
their own entry) to fields `ram_gb`, `vram_gb`, `max_params_b`, `max_size_gb`,
`max_context_k` (thousands of tokens), `allow_models`, `deny_models` (exact
names or fnmatch globs) and `max_concurrency`.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_KEY = "*"
_NUMBER_FIELDS = ("ram_gb", "vram_gb", "max_params_b", "max_size_gb", "max_context_k")
_LIST_FIELDS = ("allow_models", "deny_models")
FIELDS = (*_NUMBER_FIELDS, *_LIST_FIELDS, "max_concurrency")


class LimitsError(ValueError):
    """A limits document that cannot be used; the message says where."""


@dataclass(frozen=True)
class DeviceLimits:
    ram_gb: float | None = None
    vram_gb: float | None = None
    max_params_b: float | None = None
    max_size_gb: float | None = None
    max_context_k: float | None = None
    allow_models: tuple[str, ...] | None = None
    deny_models: tuple[str, ...] | None = None
    max_concurrency: int | None = None

    @property
    def restricts_size(self) -> bool:
        return self.max_params_b is not None or self.max_size_gb is not None

    @property
    def num_ctx_limit(self) -> int | None:
        """The context cap in tokens (max_context_k thousands), None when unlimited."""
        return int(self.max_context_k * 1024) if self.max_context_k else None


@dataclass(frozen=True)
class ModelFacts:
    """What the catalog knows of a model; None where unknown."""

    name: str
    params_b: float | None = None
    size_bytes: int | None = None


@dataclass(frozen=True)
class LimitsTable:
    by_device: Mapping[str, DeviceLimits] = field(default_factory=dict)

    def for_device(self, device_id: str, base_device_id: str | None = None) -> DeviceLimits | None:
        """The device's own entry, else its base device's (a port device is the same machine),
        else the "*" entry, else None (no limits)."""
        return (
            self.by_device.get(device_id)
            or (self.by_device.get(base_device_id) if base_device_id else None)
            or self.by_device.get(DEFAULT_KEY)
        )


def auto_limits(memory_gb: float) -> tuple[float, float]:
    """(max_params_b, max_context_k) for a machine with this much (v)RAM."""
    if memory_gb <= 8:
        return 5.0, 4.0
    if memory_gb <= 16:
        return 12.0, 8.0
    return round(0.75 * memory_gb, 2), 16.0


def _number(where: str, name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise LimitsError(f"{where}.{name} must be a non-negative number, not {value!r}")
    return float(value)


def _patterns(where: str, name: str, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise LimitsError(f"{where}.{name} must be a list of model names or globs")
    return tuple(value)


def parse_entry(where: str, raw: Any) -> DeviceLimits:
    """One device's limits with the auto rules applied (explicit fields win over them)."""
    if not isinstance(raw, dict):
        raise LimitsError(f"{where} must be an object")
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise LimitsError(f"{where} has unknown fields: {', '.join(unknown)}")
    numbers = {n: _number(where, n, raw.get(n)) for n in _NUMBER_FIELDS}
    concurrency = raw.get("max_concurrency")
    if concurrency is not None and (
        isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1
    ):
        raise LimitsError(f"{where}.max_concurrency must be a positive integer")
    memory = numbers["vram_gb"] if numbers["vram_gb"] is not None else numbers["ram_gb"]
    if memory is not None:
        params_b, context_k = auto_limits(memory)
        if numbers["max_params_b"] is None:
            numbers["max_params_b"] = params_b
        if numbers["max_context_k"] is None:
            numbers["max_context_k"] = context_k
    return DeviceLimits(
        **numbers,
        allow_models=_patterns(where, "allow_models", raw.get("allow_models")),
        deny_models=_patterns(where, "deny_models", raw.get("deny_models")),
        max_concurrency=concurrency,
    )


def parse_limits(text: str, *, source: str) -> dict[str, DeviceLimits]:
    """Parses a limits JSON document; LimitsError names `source` (the variable or file)."""
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise LimitsError(f"{source} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise LimitsError(f"{source} must be a JSON object keyed by device id or '*'")
    return {str(key): parse_entry(f"{source}[{key!r}]", value) for key, value in raw.items()}


def _matches(model: str, patterns: tuple[str, ...]) -> bool:
    return any(model == p or fnmatch.fnmatchcase(model, p) for p in patterns)


def check_model(
    limits: DeviceLimits | None, model: ModelFacts, *, strict: bool = False
) -> str | None:
    """None when the device may run the model, else a short reason naming the limit."""
    if limits is None:
        return None
    name = model.name
    if limits.deny_models and _matches(name, limits.deny_models):
        return f"deny_models excludes {name}"
    if limits.allow_models is not None and not _matches(name, limits.allow_models):
        return f"allow_models does not include {name}"
    if limits.max_params_b is not None:
        if model.params_b is not None and model.params_b > limits.max_params_b:
            return f"max_params_b={limits.max_params_b:g} < {model.params_b:g}B of {name}"
    if limits.max_size_gb is not None and model.size_bytes is not None:
        size_gb = model.size_bytes / 1e9
        if size_gb > limits.max_size_gb:
            return f"max_size_gb={limits.max_size_gb:g} < {size_gb:.1f} GB of {name}"
    if strict and limits.restricts_size:
        unknown = []
        if limits.max_params_b is not None and model.params_b is None:
            unknown.append("parameter count")
        if limits.max_size_gb is not None and model.size_bytes is None:
            unknown.append("size")
        if unknown:
            return f"STRICT_MODEL_LIMITS: {' and '.join(unknown)} of {name} unknown"
    return None
