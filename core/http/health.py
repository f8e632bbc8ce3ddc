"""/health (always open) and /metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from core.http.openapi import Health, ok

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    summary="Liveness and database check (no token needed)",
    responses={
        **ok(Health),
        503: {"model": Health, "description": "database unreachable, or the replica is stopping"},
    },
)
async def health(request: Request, response: Response) -> dict[str, Any]:
    """200 when the database answers; 503 otherwise, and while this replica shuts down."""
    runtime = request.app.state.runtime
    ok = await runtime.database_ok()
    draining = runtime.drain.active
    if draining or not ok:
        response.status_code = 503
    return {
        "status": "draining" if draining else "ok" if ok else "degraded",
        "database": "ok" if ok else "unreachable",
        "events": "listening" if runtime.hub.connected.is_set() else "reconnecting",
    }


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
