"""Finishing jobs reported one at a time: a custom executor's `CompleteJob` or
`POST /v1/workers/complete` for each job it ran.

Once `shared` is started, single completions that arrive while a completion statement is in
flight share the next one (one statement, commit and NOTIFY, at most SHARED_COMPLETIONS); an
idle core writes at once. Each caller is answered as if it had been alone:
- a job that two callers finish at the same time (two workers, one of them with a lease that
  has since been taken over) goes in two statements, in the order the calls came, each
  against its own lease: the second is never taken for a repeat of the first;
- when a shared statement is refused for its data, each completion is written alone, so a bad
  report fails only its own caller. Any other error (Postgres down) fails the callers of that
  statement.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence

from core.queue.ids import parse_job_id, parse_lease_token
from core.queue.refused import each_alone_when_refused
from core.queue.schemas import CompleteRequest
from serving.coalescing import Coalescer

SHARED_COMPLETIONS = 64

# QueueService.complete_many: one status per request, None where the lease was not held.
CompleteMany = Callable[[Sequence[CompleteRequest]], Awaitable[list[str | None]]]
# A caller's status, or what its completion raised.
Answer = str | None | Exception


class SharedCompletions:
    def __init__(self, complete_many: CompleteMany) -> None:
        self._complete_many = complete_many
        # Writes single completions (complete_one), shared with others once started.
        self.shared: Coalescer[CompleteRequest, Answer] = Coalescer(
            self._complete_shared, name="queue-completions", max_batch=SHARED_COMPLETIONS
        )

    async def complete_one(self, request: CompleteRequest) -> str | None:
        """The job's status once finished; None when the lease was not held. A malformed job
        id or lease token fails this caller before anything is shared."""
        parse_job_id(request.job_id)
        parse_lease_token(request.lease_token)
        answer = await self.shared.submit(request)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def _complete_shared(self, requests: list[CompleteRequest]) -> list[Answer]:
        answers: list[Answer] = [None] * len(requests)
        for turn in _turns(requests):
            try:
                written = await each_alone_when_refused(
                    self._complete_many, [requests[i] for i in turn]
                )
            except Exception as exc:  # this turn's callers only: earlier turns are written
                written = [exc] * len(turn)
            for i, answer in zip(turn, written, strict=True):
                answers[i] = answer
        return answers


def _turns(requests: Sequence[CompleteRequest]) -> list[list[int]]:
    """The requests' indexes in turns that each name a job at most once, in arrival order: a
    job's second completion goes in the turn after its first."""
    turns: list[list[int]] = []
    seen: dict[uuid.UUID, int] = {}
    for i, request in enumerate(requests):
        job_id = parse_job_id(request.job_id)  # checked by complete_one
        turn = seen[job_id] = seen.get(job_id, -1) + 1
        if turn == len(turns):
            turns.append([])
        turns[turn].append(i)
    return turns
