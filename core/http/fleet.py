"""/v1/discovery, /v1/devices, /v1/models: the fleet as discovery found it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from core.fleet.schemas import DeviceOffline
from core.fleet.service import FleetService
from core.http.auth import ClientAuth, WorkerAuth

router = APIRouter(prefix="/v1", tags=["fleet"])


def _fleet(request: Request) -> FleetService:
    return request.app.state.runtime.fleet


@router.post("/discovery/run")
async def run_discovery(request: Request, _auth: ClientAuth) -> dict[str, Any]:
    """Runs a discovery round now (after one another replica is running) and returns its
    summary; tailscale problems are in summary.error, not an HTTP error."""
    return await _fleet(request).run_discovery()


@router.get("/discovery/last")
async def last_discovery(request: Request, _auth: ClientAuth) -> dict[str, Any]:
    """When the last round finished and its summary; ran=false before the first."""
    return await _fleet(request).last_discovery()


@router.post("/devices/offline")
async def device_offline(
    body: DeviceOffline, request: Request, _auth: WorkerAuth
) -> dict[str, Any]:
    """A worker could not connect to the device; 404 when the device is unknown."""
    return await _fleet(request).mark_offline(body)


@router.get("/devices")
async def list_devices(
    request: Request, _auth: ClientAuth, online_only: bool = False
) -> dict[str, Any]:
    """Devices with their circuit `breaker`; cloud breakers under `providers`."""
    return await _fleet(request).list_devices(online_only=online_only)


@router.get("/models")
async def list_models(request: Request, _auth: ClientAuth) -> dict[str, Any]:
    """The fleet's catalog under `models`, and the same in OpenAI's shape under
    `object`/`data` (so OpenAI clients list models here too; see doc/compat.md)."""
    return await _fleet(request).list_models()
