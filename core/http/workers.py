"""/v1/workers: the worker protocol over HTTP for custom executors (claim, heartbeat, complete,
fail)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from core.errors import InvalidInput
from core.http.auth import WorkerAuth
from core.http.openapi import (
    BODY_ERRORS,
    Claimed,
    Completed,
    Failed,
    HeartbeatAnswer,
    ProgressAdded,
    WorkerRegistered,
    errors,
    ok,
)
from core.http.views import job_view
from core.queue.schemas import (
    ClaimRequest,
    CompleteRequest,
    FailRequest,
    HeartbeatRequest,
    ProgressRequest,
    WorkerRegister,
)
from core.queue.service import QueueService

router = APIRouter(prefix="/v1/workers", tags=["workers"], responses=errors(401, *BODY_ERRORS))


def _queue(request: Request) -> QueueService:
    return request.app.state.queue


@router.post(
    "/register",
    summary="Register a worker and the kinds it runs",
    responses=ok(WorkerRegistered),
)
async def register(body: dict[str, WorkerRegister], request: Request, _auth: WorkerAuth) -> dict:
    """Body: {"worker": {...}}; the kinds it lists are the ones it will claim."""
    worker = body.get("worker")
    if worker is None or len(body) != 1:
        raise InvalidInput('body must be {"worker": {...}}')
    await _queue(request).register_worker(worker)
    return {"ok": True, "worker_id": worker.id}


@router.post(
    "/claim",
    summary="Claim jobs under a lease (long-poll with wait_seconds)",
    response_model=Claimed,
    responses=ok(Claimed),
)
async def claim(body: ClaimRequest, request: Request, _auth: WorkerAuth) -> dict[str, Any]:
    """Claims up to max_jobs jobs; with wait_seconds, waits for one. `job` is null when none."""
    jobs = [job_view(j, with_lease=True) for j in await _queue(request).claim(body)]
    return {"job": jobs[0] if jobs else None, "jobs": jobs}


@router.post(
    "/heartbeat",
    summary="Extend a job's lease; learn of a cancel",
    responses={**ok(HeartbeatAnswer), **errors(404, 409)},
)
async def heartbeat(body: HeartbeatRequest, request: Request, _auth: WorkerAuth) -> dict[str, Any]:
    beat = await _queue(request).heartbeat(body)
    return {
        "ok": True,
        "canceled": beat.canceled,
        "lease_until": beat.lease_until.isoformat() if beat.lease_until else None,
    }


@router.post(
    "/complete",
    summary="Finish a job with its result",
    responses={**ok(Completed), **errors(404, 409)},
)
async def complete(body: CompleteRequest, request: Request, _auth: WorkerAuth) -> dict[str, Any]:
    return {"ok": True, "status": await _queue(request).complete(body)}


@router.post(
    "/fail",
    summary="Fail a job (retried with backoff when retryable)",
    responses={**ok(Failed), **errors(404, 409)},
)
async def fail(body: FailRequest, request: Request, _auth: WorkerAuth) -> dict[str, Any]:
    outcome = await _queue(request).fail(body)
    return {
        "ok": True,
        "status": outcome.status,
        "run_after": outcome.run_after.isoformat() if outcome.run_after else None,
    }


@router.post(
    "/progress",
    summary="Add a progress event (streamed text)",
    responses={**ok(ProgressAdded), **errors(404, 409)},
)
async def progress(body: ProgressRequest, request: Request, _auth: WorkerAuth) -> dict[str, Any]:
    added = await _queue(request).add_progress(body)
    return {"ok": True, "event_id": added.event.id, "canceled": added.canceled}
