"""Applies DEVICE_LIMITS_JSON / DEVICE_LIMITS_FILE to the device_limits table, now and every
DEVICE_LIMITS_INTERVAL seconds. At start-up a broken document stops core (the message names
the variable); on a later round it is logged and the last good limits stay in force."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from core.maintenance.loop import run_every
from core.routing.limits import DeviceLimits, LimitsError, parse_limits
from core.routing.store import RoutingStore

log = logging.getLogger(__name__)

SOURCE = "config"


@dataclass(frozen=True)
class LimitsConfig:
    json_text: str | None = None
    file_path: str | None = None
    interval_seconds: float = 0.0

    @property
    def configured(self) -> bool:
        return bool((self.json_text or "").strip() or self.file_path)


def read_limits(config: LimitsConfig) -> dict[str, DeviceLimits]:
    """The file's entries overlaid by the JSON's; LimitsError names the variable at fault."""
    limits: dict[str, DeviceLimits] = {}
    if config.file_path:
        try:
            text = Path(config.file_path).read_text()
        except OSError as exc:
            raise LimitsError(
                f"DEVICE_LIMITS_FILE {config.file_path}: cannot read ({exc.strerror})"
            ) from None
        limits.update(parse_limits(text, source=f"DEVICE_LIMITS_FILE {config.file_path}"))
    if (config.json_text or "").strip():
        limits.update(parse_limits(config.json_text or "", source="DEVICE_LIMITS_JSON"))
    return limits


class LimitsApplier:
    def __init__(self, store: RoutingStore, config: LimitsConfig) -> None:
        self._store = store
        self.config = config
        self.last_error: str | None = None
        self.applied: dict[str, DeviceLimits] | None = None

    async def apply_at_startup(self) -> None:
        """Makes the config-sourced limits exactly what config says now: none when nothing is
        configured, so limits from an earlier start's config do not linger. Limits from other
        sources stay. Raises LimitsError when the configured limits cannot be read."""
        limits = read_limits(self.config) if self.config.configured else {}
        await self._store.replace_limits(limits, source=SOURCE)
        self.applied = limits
        if limits:
            log.info("device limits applied for %d keys", len(limits))

    async def run_once(self) -> bool:
        """Re-reads and applies; False (logged, last good limits kept) when unreadable."""
        if not self.config.configured:
            return True
        try:
            limits = read_limits(self.config)
        except LimitsError as exc:
            self.last_error = str(exc)
            log.error("device limits not re-applied, keeping the last good ones: %s", exc)
            return False
        self.last_error = None
        if limits != self.applied:
            await self._store.replace_limits(limits, source=SOURCE)
            self.applied = limits
            log.info("device limits re-applied for %d keys", len(limits))
        return True

    async def run(self) -> None:
        await run_every("device limits", self.config.interval_seconds, self.run_once)
