"""/v1/discovery, /v1/devices, /v1/models: the fleet as discovery found it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from core.fleet.schemas import DeviceOffline
from core.fleet.service import FleetService
from core.http.auth import ClientAuth, WorkerAuth
from core.http.openapi import (
    BODY_ERRORS,
    DeviceList,
    DeviceMarkedOffline,
    DiscoveryRun,
    ModelList,
    errors,
    ok,
)

router = APIRouter(prefix="/v1", tags=["fleet"], responses=errors(401))


def _fleet(request: Request) -> FleetService:
    return request.app.state.runtime.fleet


@router.post("/discovery/run", summary="Run a discovery round now", responses=ok(DiscoveryRun))
async def run_discovery(request: Request, _auth: ClientAuth) -> dict[str, Any]:
    """Runs a discovery round now (after one another replica is running) and returns its
    summary; tailscale problems are in summary.error, not an HTTP error."""
    return await _fleet(request).run_discovery()


@router.get("/discovery/last", summary="The last discovery round", responses=ok(DiscoveryRun))
async def last_discovery(request: Request, _auth: ClientAuth) -> dict[str, Any]:
    """When the last round finished and its summary; ran=false before the first."""
    return await _fleet(request).last_discovery()


@router.post(
    "/devices/offline",
    summary="Mark a device offline (worker token)",
    responses={**ok(DeviceMarkedOffline), **errors(*BODY_ERRORS, 404)},
)
async def device_offline(
    body: DeviceOffline, request: Request, _auth: WorkerAuth
) -> dict[str, Any]:
    """A worker could not connect to the device; 404 when the device is unknown."""
    return await _fleet(request).mark_offline(body)


@router.get(
    "/devices",
    summary="Devices, their models, limits, load",
    responses={**ok(DeviceList), **errors(422)},
)
async def list_devices(
    request: Request, _auth: ClientAuth, online_only: bool = False
) -> dict[str, Any]:
    """Devices with their circuit `breaker`; cloud breakers under `providers`."""
    return await _fleet(request).list_devices(online_only=online_only)


@router.get(
    "/models",
    summary="The model catalog and where each model runs",
    responses=ok(ModelList),
)
async def list_models(request: Request, _auth: ClientAuth) -> dict[str, Any]:
    """The fleet's catalog under `models`, and the same in OpenAI's shape under
    `object`/`data` (so OpenAI clients list models here too; see doc/compat.md)."""
    return await _fleet(request).list_models()
