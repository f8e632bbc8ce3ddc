"""/v1/costs: model prices (read and set) and the cost summary."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from core.costs.pricing import PriceList
from core.costs.service import CostService
from core.http import openapi_compat as doc
from core.http.auth import ClientAuth
from core.http.openapi import BODY_ERRORS, errors, ok

router = APIRouter(prefix="/v1/costs", tags=["costs"])


def _costs(request: Request) -> CostService:
    return request.app.state.runtime.costs


@router.get(
    "/summary",
    summary="What finished jobs cost, by provider and model",
    responses={**ok(doc.CostSummary), **errors(401, 422, 503)},
)
async def cost_summary(
    request: Request,
    _auth: ClientAuth,
    period: Annotated[Literal["day", "week", "month"], Query()] = "day",
) -> dict[str, Any]:
    """Jobs finished in the last day (24 h), week (7 days) or month (30 days); local = 0."""
    return await _costs(request).summary(period)


@router.get(
    "/pricing",
    summary="Model prices (USD per 1M tokens in and out)",
    responses={**ok(doc.PriceTable), **errors(401, 503)},
)
async def list_pricing(request: Request, _auth: ClientAuth) -> dict[str, Any]:
    return await _costs(request).list_prices()


@router.put(
    "/pricing",
    summary="Set model prices (upsert)",
    responses={**ok(doc.PriceTable), **errors(401, *BODY_ERRORS, 503)},
)
async def set_pricing(body: PriceList, request: Request, _auth: ClientAuth) -> dict[str, Any]:
    return await _costs(request).set_prices(body.prices)
