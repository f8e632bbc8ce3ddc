"""GET /v1/dashboard: the fleet at a glance (the same JSON as gRPC GetStatus)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from core.dashboard.view import snapshot_view
from core.http.auth import ClientAuth
from core.http.openapi import Dashboard, errors, ok

router = APIRouter(prefix="/v1/dashboard", tags=["dashboard"], responses=errors(401))


@router.get(
    "",
    summary="Status snapshot: queue, running jobs, devices, benchmarks, workers",
    responses=ok(Dashboard),
)
async def get_dashboard(request: Request, _auth: ClientAuth) -> dict[str, Any]:
    return snapshot_view(await request.app.state.runtime.dashboard.snapshot())
