"""Helpers for the MCP bridge tests: a bridge in this event loop, pointed at a core."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from mcp_bridge.app import RunningBridge, running_bridge
from mcp_bridge.settings import BridgeSettings


def bridge_settings(core_grpc_addr: str, **overrides: Any) -> BridgeSettings:
    values: dict[str, Any] = {
        "core_grpc_addr": core_grpc_addr,
        "mcp_port": 0,
        "mcp_core_timeout": 10,
    }
    values.update(overrides)
    return BridgeSettings(**values)


@contextlib.asynccontextmanager
async def start_bridge(core_grpc_addr: str, **overrides: Any) -> AsyncIterator[RunningBridge]:
    async with running_bridge(bridge_settings(core_grpc_addr, **overrides)) as bridge:
        yield bridge
