"""/v1/jobs: submit, read, list, stream, cancel."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from sse_starlette import EventSourceResponse

from core.http.auth import ClientAuth
from core.http.openapi import BODY_ERRORS, JobPage, JobsSubmitted, JobSubmitted, JobView, errors, ok
from core.http.views import event_view, job_view
from core.queue.schemas import JobCreate, JobListQuery
from core.queue.service import QueueService
from proto.event_ids import parse_last_event_id

# How soon an SSE client handed back by a stopping replica reconnects, in milliseconds.
RECONNECT_MS = 250

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=errors(401, 422))


def _queue(request: Request) -> QueueService:
    return request.app.state.queue


@router.post(
    "",
    status_code=201,
    summary="Enqueue a job",
    response_model=JobSubmitted,
    responses={**ok(JobSubmitted, 201), **ok(JobSubmitted), **errors(*BODY_ERRORS)},
)
async def submit_job(
    body: JobCreate,
    request: Request,
    response: Response,
    _auth: ClientAuth,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    """201 with the new job's id; 200 with the existing job for a known Idempotency-Key."""
    if idempotency_key and not body.idempotency_key:
        body = body.model_copy(update={"idempotency_key": idempotency_key})
    result = (await _queue(request).submit([body]))[0]
    if not result.created:
        response.status_code = 200
    return {"job_id": str(result.job.id), "status": result.job.status, "created": result.created}


@router.post(
    "/batch",
    status_code=201,
    summary="Enqueue several jobs in one transaction",
    response_model=JobsSubmitted,
    responses={**ok(JobsSubmitted, 201), **ok(JobsSubmitted), **errors(*BODY_ERRORS)},
)
async def submit_jobs(
    body: Annotated[list[JobCreate], ...],
    request: Request,
    response: Response,
    _auth: ClientAuth,
    idempotency_key: Annotated[str | None, Header(max_length=190)] = None,
) -> dict[str, Any]:
    """201 with the jobs; with an Idempotency-Key, job i gets the key `<key>:<i>` (unless it
    names its own), so the same batch sent again answers 200 with the same jobs."""
    if idempotency_key:
        body = [
            job
            if job.idempotency_key
            else job.model_copy(update={"idempotency_key": f"{idempotency_key}:{i}"})
            for i, job in enumerate(body)
        ]
    results = await _queue(request).submit(body)
    if not any(r.created for r in results):
        response.status_code = 200
    return {
        "jobs": [
            {"job_id": str(r.job.id), "status": r.job.status, "created": r.created} for r in results
        ]
    }


@router.get("", summary="List jobs, newest first", response_model=JobPage, responses=ok(JobPage))
async def list_jobs(
    request: Request, _auth: ClientAuth, query: Annotated[JobListQuery, Query()]
) -> dict[str, Any]:
    page = await _queue(request).list_jobs(**query.model_dump())
    return {"jobs": [job_view(j) for j in page.jobs], "next_cursor": page.next_cursor}


@router.get(
    "/{job_id}",
    summary="A job's status and result",
    response_model=JobView,
    responses={**ok(JobView), **errors(404)},
)
async def get_job(job_id: str, request: Request, _auth: ClientAuth) -> dict[str, Any]:
    return job_view(await _queue(request).get(job_id))


@router.post(
    "/{job_id}/cancel",
    summary="Cancel a job",
    response_model=JobView,
    responses={**ok(JobView), **errors(404)},
)
async def cancel_job(job_id: str, request: Request, _auth: ClientAuth) -> dict[str, Any]:
    return job_view(await _queue(request).cancel(job_id))


@router.get(
    "/{job_id}/stream",
    summary="Follow a job's events (SSE)",
    response_class=EventSourceResponse,
    responses={
        200: {"description": "text/event-stream: `job`, then one event per transition"},
        **errors(400, 404),
    },
)
async def stream_job(
    job_id: str,
    request: Request,
    _auth: ClientAuth,
    last_event_id: Annotated[str | None, Header(max_length=100)] = None,
) -> EventSourceResponse:
    """Server-sent events: first `job` (current state), then each transition with its event id
    (resume with Last-Event-ID, a whole number; 400 otherwise); ends after done, error or
    canceled. A resume at or past the end gets the terminal event again, then the end."""
    queue = _queue(request)
    after = parse_last_event_id(last_event_id)  # 400 before the stream starts
    drain = request.app.state.runtime.drain
    # The job and what happened so far in one read: 404 before the stream starts.
    job, followed = await queue.following.open_follow(job_id, last_event_id=after)
    events = drain.until_begun(followed)

    async def frames() -> AsyncIterator[dict[str, Any]]:
        yield {"event": "job", "data": json.dumps(job_view(job))}
        terminal = False
        async for event in events:
            if event is None:
                continue
            terminal = event.terminal
            final = (event.job or await queue.get(job.id)) if event.terminal else None
            yield {
                "id": str(event.id),
                "event": event.type,
                "data": json.dumps(event_view(event, final)),
            }
        if not terminal:
            # This replica is stopping: the client reconnects (Last-Event-ID) to another one,
            # and soon, rather than after EventSource's default few seconds.
            yield {"retry": RECONNECT_MS}

    return EventSourceResponse(frames(), ping=request.app.state.settings.sse_ping_seconds)
