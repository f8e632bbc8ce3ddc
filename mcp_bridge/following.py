"""Following a job over StreamJob until it ends or a timeout passes, reporting each event.

Used by the `wait_job` and `llm_request` tools; the HTTP bridge streams frames itself.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from proto import llm_pb2 as pb
from proto.client import CoreClient
from proto.contract import DELTA, THINKING

TERMINAL_STATUSES = frozenset({"done", "error", "canceled"})

# Called with (step number, event type, a short human-readable message).
ProgressReporter = Callable[[int, str, str], Awaitable[None]]


@dataclass(frozen=True)
class FollowOutcome:
    job: pb.Job
    finished: bool  # False when `within` passed first
    events_seen: int


def describe_event(event: pb.JobEvent) -> str:
    """One line for a progress notification: the event type plus what it carries.

    Our workers' progress carries streamed text in `delta` or `thinking` (proto/contract.py);
    another executor's progress (any JSON object) is shown as its JSON."""
    data = json.loads(event.data_json) if event.data_json else None
    if event.type == "progress" and isinstance(data, dict):
        text = next((data[k] for k in (DELTA, THINKING) if isinstance(data.get(k), str)), None)
        shown = text if text is not None else json.dumps(data, separators=(",", ":"))
        return f"progress: {shown[:200]}"
    if event.type in ("retry", "error") and isinstance(data, dict) and data.get("error"):
        return f"{event.type}: {str(data['error'])[:200]}"
    if event.job.id:
        return f"{event.type}: job is {event.job.status}"
    return event.type


async def follow_job(
    core: CoreClient,
    job_id: str,
    *,
    within: float,
    report: ProgressReporter | None = None,
) -> FollowOutcome:
    """Waits up to `within` seconds for the job to end, calling `report` for each event.

    A finished job's history is replayed too, so a caller always sees how the job went.
    Raises CoreClientError (NotFound for an unknown job, CoreUnavailable when core is down).
    """
    seen = 0
    final: pb.Job | None = None
    try:
        async with asyncio.timeout(within):
            async for event in core.stream_job(job_id):
                seen += 1
                if report is not None:
                    await report(seen, event.type, describe_event(event))
                if event.type in TERMINAL_STATUSES and event.job.id:
                    final = event.job
    except TimeoutError:
        pass
    if final is not None:
        return FollowOutcome(job=final, finished=True, events_seen=seen)
    job = await core.get_job(job_id)
    return FollowOutcome(job=job, finished=job.status in TERMINAL_STATUSES, events_seen=seen)
