"""GET /v1/models in OpenAI's shape too: `object`/`data` beside the fleet's `models`."""

from __future__ import annotations

from typing import Any

from core.compat import openai_views
from core.routing.service import FleetReader
from proto.contract import OPENAI_CHAT, OPENROUTER_CHAT


async def with_openai_models(routing: FleetReader, view: dict[str, Any]) -> dict[str, Any]:
    """Adds {"object": "list", "data": [...]}: `auto`, the fleet's models, live clouds."""
    fleet = await routing.fleet()
    clouds = []
    if OPENAI_CHAT in fleet.live_kinds:
        clouds.append(f"openai/{fleet.defaults.openai}")
    if OPENROUTER_CHAT in fleet.live_kinds:
        clouds.append(f"openrouter/{fleet.defaults.openrouter}")
    entries = openai_views.model_entries(view.get("models", []), clouds)
    return {**view, "object": "list", "data": entries}
