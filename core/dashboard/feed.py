"""The live dashboard's one producer per process.

However many pages are open and however many jobs move, core reads one frame per filter in use
at most every `min_interval_seconds`, on the event hub's notifications (and every
`idle_refresh_seconds` without any: discovery and clocks move without job events). Each page
holds at most one unsent frame (the newest), so a slow page never makes core buffer. With no
page open, nothing runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from core.dashboard.live import JobFilter

log = logging.getLogger(__name__)

BuildFrames = Callable[[Iterable[JobFilter]], Awaitable[dict[JobFilter, dict[str, Any]]]]


@dataclass(frozen=True, slots=True)
class FeedConfig:
    min_interval_seconds: float = 0.5
    idle_refresh_seconds: float = 5.0


class Subscription:
    """One open page: its filter and its newest unsent frame."""

    def __init__(self, job_filter: JobFilter) -> None:
        self.job_filter = job_filter
        self._frame: dict[str, Any] | None = None
        self._ready = asyncio.Event()

    def offer(self, frame: dict[str, Any]) -> None:
        self._frame = frame  # replaces an unsent one: the page wants now, not history
        self._ready.set()

    async def next(self, within: float) -> dict[str, Any] | None:
        """The newest frame, or None after `within` seconds without one."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), within)
        if not self._ready.is_set():
            return None
        self._ready.clear()
        frame, self._frame = self._frame, None
        return frame


class DashboardFeed:
    def __init__(self, build: BuildFrames, config: FeedConfig | None = None) -> None:
        self._build = build
        self.config = config or FeedConfig()
        self._subscriptions: set[Subscription] = set()
        self._poked = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.frames_built = 0

    def poke(self) -> None:
        """Something changed (the hub calls this on every notification)."""
        self._poked.set()

    @contextlib.contextmanager
    def subscribe(self, job_filter: JobFilter) -> Iterator[Subscription]:
        subscription = Subscription(job_filter)
        self._subscriptions.add(subscription)
        self.poke()  # a new page gets its first frame now, not at the next change
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="dashboard-feed")
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)
            if not self._subscriptions and self._task is not None:
                self._task.cancel()
                self._task = None

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        config = self.config
        loop = asyncio.get_running_loop()
        while self._subscriptions:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poked.wait(), config.idle_refresh_seconds)
            self._poked.clear()
            started = loop.time()
            await self.run_once()
            # Pacing, not waiting for a condition: at most one frame per interval, whatever
            # the rate of notifications (a read slower than that is the pace by itself).
            await asyncio.sleep(max(0.0, config.min_interval_seconds - (loop.time() - started)))

    async def run_once(self) -> None:
        """Builds and offers one frame to every open page (an error frame when reading fails)."""
        subscriptions = list(self._subscriptions)
        try:
            frames = await self._build({s.job_filter for s in subscriptions})
        except Exception as exc:
            log.warning("dashboard frame could not be read (%s)", exc)
            for subscription in subscriptions:
                subscription.offer({"error": str(exc)})
            return
        self.frames_built += 1
        for subscription in subscriptions:
            frame = frames.get(subscription.job_filter)
            if frame is not None:
                subscription.offer(frame)
