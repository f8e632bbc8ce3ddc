"""`echo`: the payload comes back as the result. For wiring checks and benchmarks."""

from __future__ import annotations

from worker.handlers.base import JobContext, Outcome


async def echo(job: JobContext) -> Outcome:
    return Outcome(result=job.payload)
