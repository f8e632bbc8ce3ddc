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
    responses={**ok(Health), 503: {"model": Health, "description": "database unreachable"}},
)
async def health(request: Request, response: Response) -> dict[str, Any]:
    """200 when the database answers; 503 otherwise."""
    runtime = request.app.state.runtime
    ok = await runtime.database_ok()
    if not ok:
        response.status_code = 503
    return {
        "status": "ok" if ok else "degraded",
        "database": "ok" if ok else "unreachable",
        "events": "listening" if runtime.hub.connected.is_set() else "reconnecting",
    }


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
