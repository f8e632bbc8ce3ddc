"""A compatible request's job: enqueue it through routing, then follow its events.

The HTTP call waits on the job's event stream (the queue's follow, woken by NOTIFY), not by
polling. A stream whose client goes away cancels its job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from core.compat.shape import Shape
from core.errors import CoreError, JobFailedUpstream
from core.queue.following import Watch
from core.queue.models import DONE, Job
from core.queue.service import QueueService
from core.routing.fleet import Fleet
from core.routing.schemas import LlmRequest
from core.routing.service import RouteResult, RoutingService
from proto.contract import DELTA, PROGRESS_TYPE, THINKING, TOKEN, result_text

log = logging.getLogger(__name__)

# How long a started job's watch waits to be followed before it is closed unused.
WATCH_KEPT_SECONDS = 60.0


@dataclass(frozen=True)
class Token:
    delta: str = ""
    thinking: str = ""


def check_done(job: Job) -> Job:
    if job.status != DONE:
        raise JobFailedUpstream(f"job {job.id} {job.status}: {job.error or 'no result'}")
    return job


class CompatJobs:
    def __init__(self, routing: RoutingService, queue: QueueService) -> None:
        self._routing = routing
        self._queue = queue
        self._cancels: set[asyncio.Task[Any]] = set()
        # Watches of started jobs not yet followed, oldest first, with when they were taken.
        self._watches: dict[str, tuple[Watch, float]] = {}

    async def fleet(self) -> Fleet:
        return await self._routing.fleet()

    async def start(self, make: Callable[[Fleet], LlmRequest], shape: Shape) -> RouteResult:
        """Routes and enqueues the job, watched from before it is written (wait and stream
        then read nothing back)."""
        job_id = uuid.uuid4()
        watch = self._queue.following.watch(job_id)
        try:
            route = await self._routing.request_shaped(make, shape, job_id=job_id)
        except BaseException:
            self._queue.following.unwatch(watch)
            raise
        self._keep(watch)
        return route

    def _keep(self, watch: Watch) -> None:
        """Holds a watch until wait or stream takes it; ones nobody took (the request failed
        in between) are closed after WATCH_KEPT_SECONDS."""
        now = time.monotonic()
        while self._watches:
            oldest_id, (oldest, since) = next(iter(self._watches.items()))
            if now - since < WATCH_KEPT_SECONDS:
                break
            del self._watches[oldest_id]
            self._queue.following.unwatch(oldest)
        self._watches[str(watch.job_id)] = (watch, now)

    def _take(self, job_id: str) -> Watch | None:
        kept = self._watches.pop(job_id, None)
        return kept[0] if kept else None

    async def wait(self, job_id: str) -> Job:
        """The finished job; JobFailedUpstream unless it is done."""
        async for event in self._queue.following.follow(job_id, watch=self._take(job_id)):
            if event is not None and event.terminal:
                return check_done(event.job or await self._queue.get(job_id))
        return check_done(await self._queue.get(job_id))

    async def stream(self, job_id: str) -> AsyncIterator[Token | Job]:
        """Tokens as the worker streams them, then the finished job (done or not).

        Text the worker did not stream (a provider without streaming) comes as one last token,
        so the tokens always add up to the stored result."""
        text, thinking = Replay(), Replay()
        finished = False
        final: Job | None = None
        try:
            async for event in self._queue.following.follow(job_id, watch=self._take(job_id)):
                if event is None:
                    continue
                if event.type == "running":
                    text.new_attempt()
                    thinking.new_attempt()
                elif event.type == "progress" and event.data.get(PROGRESS_TYPE) == TOKEN:
                    token = Token(
                        delta=text.add(str(event.data.get(DELTA) or "")),
                        thinking=thinking.add(str(event.data.get(THINKING) or "")),
                    )
                    if token.delta or token.thinking:
                        yield token
                elif event.terminal:
                    final = event.job
                    break
            job = final or await self._queue.get(job_id)
            finished = True
            rest = Token(
                delta=_remainder(result_text(job.result), text.sent),
                thinking=_remainder(result_text(job.result, THINKING), thinking.sent),
            )
            if job.status == DONE and (text.diverged or thinking.diverged):
                raise JobFailedUpstream(
                    f"job {job.id} was retried after part of its answer was streamed, and the "
                    "retry answered differently; its whole answer is in the job's result"
                )
            if job.status == DONE and (rest.delta or rest.thinking):
                yield rest
            yield job
        finally:
            if not finished:
                self._cancel_later(job_id)

    def _cancel_later(self, job_id: str) -> None:
        """The client went away mid-stream: cancel its job (in a task: we may be cancelled)."""

        async def cancel() -> None:
            with contextlib.suppress(CoreError):
                await self._queue.cancel(job_id)
                log.info("client went away; job canceled", extra={"job_id": job_id})

        task = asyncio.get_running_loop().create_task(cancel())
        self._cancels.add(task)
        task.add_done_callback(self._cancels.discard)


class Replay:
    """What a client was sent of one text, across attempts: a retried job streams from the
    start again, so its chunks are held back until they go past what was already sent."""

    def __init__(self) -> None:
        self.sent = ""
        self._current = ""
        self.diverged = False

    def new_attempt(self) -> None:
        self._current = ""

    def add(self, delta: str) -> str:
        """The part of `delta` the client has not seen yet."""
        if not delta or self.diverged:
            return ""
        self._current += delta
        if self._current.startswith(self.sent):
            new = self._current[len(self.sent) :]
            self.sent = self._current
            return new
        if not self.sent.startswith(self._current):
            self.diverged = True
        return ""


def _remainder(full: str, sent: str) -> str:
    if full.startswith(sent):
        return full[len(sent) :]
    return ""
