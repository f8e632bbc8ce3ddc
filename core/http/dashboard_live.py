"""The live dashboard's data: one SSE stream of frames, and a job's attempts and cost."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sse_starlette import EventSourceResponse

from core.dashboard.feed import DashboardFeed
from core.dashboard.live import JobFilter, LiveDashboard
from core.http.auth import ClientAuth
from core.http.openapi import errors, ok
from core.queue.models import STATUSES

router = APIRouter(prefix="/v1/dashboard", tags=["dashboard"], responses=errors(401, 422))


class JobExtras(BaseModel):
    job_id: str
    attempts: list[dict[str, Any]]
    cost: dict[str, Any] | None


def _live(request: Request) -> LiveDashboard:
    return request.app.state.runtime.live


def _feed(request: Request) -> DashboardFeed:
    return request.app.state.runtime.live_feed


# Not in the OpenAPI schema: it never ends, which schema-driven clients cannot call (doc/README.md
# describes it).
@router.get("/stream", include_in_schema=False)
async def stream_dashboard(
    request: Request,
    _auth: ClientAuth,
    status: Literal[STATUSES] | None = None,  # type: ignore[valid-type]
    kind: Annotated[str | None, Query(max_length=100)] = None,
    source: Annotated[str | None, Query(max_length=200)] = None,
) -> EventSourceResponse:
    """Server-sent `frame` events: the fleet, the queue, its last hour, the newest jobs of the
    filter; a new one at most twice a second while jobs move, every few seconds otherwise."""
    feed = _feed(request)
    job_filter = JobFilter(status=status, kind=kind, source=source)
    ping = request.app.state.settings.sse_ping_seconds

    async def frames() -> AsyncIterator[dict[str, Any]]:
        with feed.subscribe(job_filter) as subscription:
            while True:
                frame = await subscription.next(within=ping)
                if frame is not None:
                    yield {"event": "frame", "data": json.dumps(frame, default=str)}

    return EventSourceResponse(frames(), ping=ping)


@router.get(
    "/jobs/{job_id}",
    summary="A job's attempts (worker, times, outcome) and cost, for its dashboard page",
    responses={**ok(JobExtras), **errors(404)},
)
async def job_extras(job_id: str, request: Request, _auth: ClientAuth) -> dict[str, Any]:
    return await _live(request).job_extras(job_id)
