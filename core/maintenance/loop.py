"""The shape every maintenance loop shares: run_once() on a fixed interval, errors logged."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def run_every(name: str, interval: float, run_once: Callable[[], Awaitable[object]]) -> None:
    """Calls run_once every `interval` seconds until cancelled; a failed round is logged."""
    while True:
        try:
            await run_once()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: round failed; trying again in %.1fs", name, interval)
        await asyncio.sleep(interval)
