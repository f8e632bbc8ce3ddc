"""Background tasks a process cannot run without, watched as procrastinate's worker watches
its side tasks: one that ends on its own (it raised, or returned from a loop meant to run
until cancelled) is logged once at ERROR, naming it and its exception, and stops the process
instead of vanishing while the process runs on without it.

Usage: `start()` or `watch()` each task; `until_stopped(stop)` returns when `stop` is set or a
task died; `cancel()` and `join()` as the process stops; after its usual clean stop,
`raise_if_died()` raises SideTaskDied, which the command turns into a non-zero exit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class SideTaskDied(RuntimeError):
    """A watched background task ended; the process must stop (and exit non-zero)."""

    def __init__(self, name: str, cause: BaseException | None) -> None:
        reason = "returned" if cause is None else f"{type(cause).__name__}: {cause}"
        super().__init__(f"background task {name} died ({reason})")
        self.name = name
        self.cause = cause


class SideTasks:
    def __init__(self) -> None:
        self._started: list[asyncio.Task[Any]] = []
        self._died = asyncio.Event()
        self._stopping = False
        self.failure: SideTaskDied | None = None

    def start(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Runs `coro` as a task named `name` (the name the ERROR line gives) and watches it."""
        task = asyncio.create_task(coro, name=name)
        self._started.append(task)
        self.watch(task)
        return task

    def watch(self, task: asyncio.Task[Any]) -> None:
        """Watches a task started elsewhere; whoever started it stops it."""
        task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled() or self._stopping:
            return
        cause = task.exception()
        if self.failure is not None:  # the process is stopping already: one line is enough
            log.debug("background task %s ended too", task.get_name(), exc_info=cause)
            return
        self.failure = SideTaskDied(task.get_name(), cause)
        log.error("%s; stopping", self.failure, exc_info=cause)
        self._died.set()

    async def until_stopped(self, stop: asyncio.Event) -> None:
        """Returns once `stop` is set or a watched task died (see `failure`)."""
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._died.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    def raise_if_died(self) -> None:
        """Raises SideTaskDied when a watched task died."""
        if self.failure is not None:
            raise self.failure

    def cancel(self) -> None:
        """The process is stopping: a task that ends from now on did not die. Cancels the
        tasks `start()` started; watched ones are their owner's to stop."""
        self._stopping = True
        for task in self._started:
            task.cancel()

    async def join(self) -> None:
        """Waits for the tasks `start()` started to end (after `cancel()`)."""
        await asyncio.gather(*self._started, return_exceptions=True)
