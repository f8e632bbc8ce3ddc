"""With API_TOKEN (and WORKER_TOKEN) set, HTTP and gRPC refuse missing or wrong tokens."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import httpx
import pytest
from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

import core.http
from core.runtime import RunningCore
from proto.client import CoreClient, Unauthenticated
from testkit.support import start_core


@pytest.fixture
async def guarded(database_url: str):  # type: ignore[no-untyped-def]
    async with start_core(
        database_url, api_token="client-secret", worker_token="worker-secret"
    ) as c:
        yield c


async def test_http_requires_the_client_token_but_health_stays_open(guarded: RunningCore) -> None:
    async with httpx.AsyncClient(base_url=guarded.http_url) as http:
        assert (await http.get("/health")).status_code == 200
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "client-secret"}):
            response = await http.post("/v1/jobs", json={"kind": "echo"}, headers=headers)
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "unauthorized"
            assert response.headers["www-authenticate"] == "Bearer"
        for scheme in ("Bearer", "bearer", "BEARER"):
            ok = await http.post(
                "/v1/jobs",
                json={"kind": "echo"},
                headers={"authorization": f"{scheme} client-secret"},
            )
            assert ok.status_code == 201, scheme


async def test_worker_endpoints_take_only_the_worker_token(guarded: RunningCore) -> None:
    body = {"worker_id": "w", "kinds": ["echo"]}
    async with httpx.AsyncClient(base_url=guarded.http_url) as http:
        client = await http.post(
            "/v1/workers/claim", json=body, headers={"authorization": "Bearer client-secret"}
        )
        assert client.status_code == 401
        worker = await http.post(
            "/v1/workers/claim", json=body, headers={"authorization": "Bearer worker-secret"}
        )
        assert worker.status_code == 200


async def test_grpc_checks_the_same_tokens(guarded: RunningCore) -> None:
    async with CoreClient(guarded.grpc_addr) as anonymous:
        with pytest.raises(Unauthenticated):
            await anonymous.submit_job("echo", {})
    async with CoreClient(guarded.grpc_addr, token="client-secret") as client:
        submitted = await client.submit_job("echo", {})
        assert (await client.get_job(submitted.job_id)).status == "queued"
        with pytest.raises(Unauthenticated):
            await client.claim(worker_id="w", kinds=["echo"], lease_seconds=10)
    async with CoreClient(guarded.grpc_addr, token="worker-secret") as worker:
        jobs = await worker.claim(worker_id="w", kinds=["echo"], lease_seconds=10)
        assert [j.id for j in jobs] == [submitted.job_id]


def test_every_route_and_its_checks_run_in_the_event_loop() -> None:
    """A plain `def` endpoint or dependency (the token check, say) runs in FastAPI's thread
    pool: a thread hand-off per request, which cost the native API 14% of core's CPU."""
    routes = [
        route
        for module in pkgutil.iter_modules(core.http.__path__)
        for router in vars(importlib.import_module(f"core.http.{module.name}")).values()
        if isinstance(router, APIRouter)
        for route in router.routes
        if isinstance(route, APIRoute)
    ]
    in_threads: list[str] = []

    def check(dependant: Dependant, path: str) -> None:
        for dependency in dependant.dependencies:
            call = dependency.call
            if call is not None and not inspect.iscoroutinefunction(call):
                in_threads.append(f"{path}: {getattr(call, '__name__', call)}")
            check(dependency, path)

    assert len(routes) > 40
    for route in routes:
        if not inspect.iscoroutinefunction(route.endpoint):
            in_threads.append(f"{route.path}: {route.endpoint.__name__}")
        check(route.dependant, route.path)
    assert in_threads == []
