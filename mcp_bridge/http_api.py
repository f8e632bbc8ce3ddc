"""The HTTP bridge: /health, /submit, /jobs/{id}, /jobs/{id}/stream, over gRPC to core."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse

from mcp_bridge.views import event_view, job_view
from proto.client import CoreClient, CoreClientError
from proto.event_ids import parse_last_event_id

log = logging.getLogger(__name__)

router = APIRouter()

SSE_PING_SECONDS = 15.0


class SubmitBody(BaseModel):
    """The /submit body, a job as core's POST /v1/jobs takes it; core validates bounds and
    answers 422 with its reason."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=100)
    payload: dict[str, Any] = Field(default_factory=dict)
    # int32 on the wire to core (which applies the real bounds): larger is a 422 here.
    priority: int = Field(0, ge=-(2**31), le=2**31 - 1)
    source: str | None = Field(None, max_length=200)
    max_attempts: int | None = Field(None, ge=1, le=2**31 - 1)
    deadline_at: datetime | None = None
    idempotency_key: str | None = Field(None, max_length=200)


def _core(request: Request) -> CoreClient:
    return request.app.state.core


@router.get("/health", summary="The bridge is up; is core reachable?")
async def health(request: Request) -> dict[str, Any]:
    """Always 200 while the bridge runs; `core.reachable` says whether core answers over gRPC."""
    core = _core(request)
    try:
        await core.list_jobs(limit=1)
    except CoreClientError as exc:
        return {
            "status": "degraded",
            "core": {"reachable": False, "address": core.address, "error": exc.message},
        }
    return {"status": "ok", "core": {"reachable": True, "address": core.address}}


@router.post("/submit", status_code=201, summary="Enqueue a job (as core's POST /v1/jobs)")
async def submit(
    body: SubmitBody,
    request: Request,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    answer = await _core(request).submit_job(
        body.kind,
        body.payload,
        priority=body.priority,
        source=body.source or "mcp-bridge",
        max_attempts=body.max_attempts or 0,
        deadline_at=body.deadline_at.isoformat() if body.deadline_at else "",
        idempotency_key=body.idempotency_key or idempotency_key or "",
    )
    if not answer.created:
        response.status_code = 200
    return {"job_id": answer.job_id, "status": answer.status, "created": answer.created}


@router.get("/jobs/{job_id}", summary="A job's status and result")
async def get_job(job_id: str, request: Request) -> dict[str, Any]:
    return job_view(await _core(request).get_job(job_id))


@router.get("/jobs/{job_id}/stream", summary="Follow a job's events (SSE, as core's stream)")
async def stream_job(
    job_id: str,
    request: Request,
    last_event_id: Annotated[str | None, Header(max_length=100)] = None,
) -> EventSourceResponse:
    """First a `job` frame (current state), then each event with its id; ends after the
    terminal one. Resume with Last-Event-ID (as on core: a whole number, else 400; a resume
    at or past the end gets the terminal event again). If core goes away the stream ends."""
    core = _core(request)
    after = parse_last_event_id(last_event_id)  # 400 before the stream starts
    job = await core.get_job(job_id)  # 404/503 before the stream starts

    async def frames() -> AsyncIterator[dict[str, Any]]:
        yield {"event": "job", "data": json.dumps(job_view(job))}
        try:
            async for event in core.stream_job(job.id, last_event_id=after):
                yield {
                    "id": str(event.id),
                    "event": event.type,
                    "data": json.dumps(event_view(event)),
                }
        except CoreClientError as exc:
            log.warning("job stream from core ended: %s", exc.message, extra={"job_id": job.id})

    return EventSourceResponse(frames(), ping=SSE_PING_SECONDS)
