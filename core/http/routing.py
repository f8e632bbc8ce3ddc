"""/v1/llm/request (smart routing) and /v1/benchmarks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from core.http.auth import ClientAuth
from core.http.openapi import (
    BODY_ERRORS,
    BenchmarkList,
    BenchmarksQueued,
    LlmRouted,
    errors,
    ok,
)
from core.routing.schemas import BenchmarkRun, LlmRequest
from core.routing.service import RoutingService

router = APIRouter(tags=["routing"], responses=errors(401, 422))


def _routing(request: Request) -> RoutingService:
    return request.app.state.runtime.routing


@router.post(
    "/v1/llm/request",
    status_code=201,
    summary="Route and enqueue an LLM request",
    responses={**ok(LlmRouted, 201), **errors(*BODY_ERRORS, 503)},
)
async def llm_request(body: LlmRequest, request: Request, _auth: ClientAuth) -> dict[str, Any]:
    """{job_id, provider, kind, model, device_id, reason}; 422/503 naming what is missing."""
    return (await _routing(request).request(body)).as_dict()


@router.post(
    "/v1/benchmarks/run",
    status_code=201,
    summary="Enqueue benchmark runs on a device",
    responses={**ok(BenchmarksQueued, 201), **errors(*BODY_ERRORS)},
)
async def run_benchmarks(body: BenchmarkRun, request: Request, _auth: ClientAuth) -> dict[str, Any]:
    return await _routing(request).run_benchmarks(body)


@router.get(
    "/v1/benchmarks",
    summary="Latest benchmark results, newest first",
    responses=ok(BenchmarkList),
)
async def list_benchmarks(
    request: Request, _auth: ClientAuth, limit: Annotated[int, Query(ge=1, le=500)] = 20
) -> dict[str, Any]:
    return {"benchmarks": await _routing(request).list_benchmarks(limit)}
