"""Claims of one job from the queue that come together: a custom executor's parallel
long-polls (one claim per free slot, all under one worker id), woken together by the jobs of
one insert.

Once started, a claim of one job that comes while one of the same worker, kinds and lease is
in flight goes in the next statement, with the others that piled up (at most
SHARED_CLAIMS); an idle core claims at once. A claim of several jobs is a batch already and
goes alone: batches gain more from running side by side. Each caller is answered as if it
had claimed alone:
- the jobs go out in claim order (priority, then age), one to each caller;
- a shared statement that leaves room also probes what is left, so a caller that got nothing
  knows when the next job is due;
- the statement runs apart from its callers: one that goes away does not cancel the others'
  claim, and one that went away before its statement ran takes no job.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

from core.events.hub import EventHub
from core.queue.models import Claimed
from core.queue.store import JobStore

SHARED_CLAIMS = 64


@dataclass(frozen=True)
class ClaimSpec:
    """What claims must have in common to share a statement."""

    worker_id: str
    kinds: frozenset[str]
    lease_seconds: float
    # Device-bound kinds among `kinds`: of those only the jobs bound to no device.
    device_kinds: tuple[str, ...]
    # Probe what is left even when the claim took something (see JobStore.claim).
    probe_when_found: bool


class SharedClaims:
    def __init__(self, store: JobStore, hub: EventHub) -> None:
        self._store = store
        self._hub = hub
        self._sharing = False
        # By spec: the answers of the claims that wait for the next statement, oldest first.
        self._waiting: dict[ClaimSpec, list[asyncio.Future[Claimed]]] = {}
        self._statements: dict[ClaimSpec, asyncio.Task[None]] = {}
        # Claims waiting for their shared statement (queued for it, or in it).
        self.unanswered = 0

    def start(self) -> None:
        self._sharing = True

    async def stop(self) -> None:
        """Stops sharing; the statements in flight finish and answer their callers."""
        self._sharing = False
        while self._statements:
            await asyncio.gather(*self._statements.values(), return_exceptions=True)

    async def claim(self, spec: ClaimSpec, max_jobs: int) -> Claimed:
        """Up to `max_jobs` jobs; their events are handed to the hub here. The answer carries
        no events."""
        if not self._sharing or max_jobs > 1:
            return (await self._write(spec, [max_jobs], probe=spec.probe_when_found))[0]
        answer: asyncio.Future[Claimed] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(spec, []).append(answer)
        self.unanswered += 1
        if spec not in self._statements:
            self._next(spec)
        try:
            return await answer
        finally:
            self.unanswered -= 1

    def _next(self, spec: ClaimSpec) -> None:
        """Starts the statement of the claims of `spec` that piled up, if any still wait."""
        waiting = [answer for answer in self._waiting.pop(spec, []) if not answer.done()]
        taken, waiting = waiting[:SHARED_CLAIMS], waiting[SHARED_CLAIMS:]
        if waiting:
            self._waiting[spec] = waiting
        if not taken:
            return
        statement = asyncio.create_task(self._answer(spec, taken), name="queue-claims")
        self._statements[spec] = statement
        statement.add_done_callback(lambda _: self._finished(spec, statement))

    def _finished(self, spec: ClaimSpec, statement: asyncio.Task[None]) -> None:
        if self._statements.get(spec) is statement:
            del self._statements[spec]
        if spec in self._waiting:
            self._next(spec)

    async def _answer(self, spec: ClaimSpec, taken: list[asyncio.Future[Claimed]]) -> None:
        try:
            claims = await self._write(
                spec, [1] * len(taken), probe=spec.probe_when_found or len(taken) > 1
            )
        except Exception as exc:
            for answer in taken:
                if not answer.done():
                    answer.set_exception(exc)
            return
        except asyncio.CancelledError:
            for answer in taken:
                answer.cancel()
            raise
        for answer, claimed in zip(taken, claims, strict=True):
            if not answer.done():
                # A caller that went away meanwhile: its job comes back when its lease ends,
                # as it would had the caller gone away right after claiming alone.
                answer.set_result(claimed)

    async def _write(self, spec: ClaimSpec, counts: list[int], *, probe: bool) -> list[Claimed]:
        """One statement for all `counts`; the jobs split among them in claim order."""
        with self._hub.writing():
            claimed = await self._store.claim(
                worker_id=spec.worker_id,
                kinds=sorted(spec.kinds),
                lease_seconds=spec.lease_seconds,
                max_jobs=sum(counts),
                device_kinds=spec.device_kinds,
                probe_when_found=probe,
            )
            self._hub.deliver(claimed.events)
        answers, start = [], 0
        for count in counts:
            jobs = claimed.jobs[start : start + count]
            answers.append(replace(claimed, jobs=jobs, events=[]))
            start += count
        return answers
