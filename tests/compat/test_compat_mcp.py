"""The MCP bridge's llm_request: streamed tokens as progress notifications, the constraints
object of the HTTP API, a failed job as a tool error; and a server that has no prompts."""

from __future__ import annotations

import asyncpg
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from mcp_bridge.tools import build_mcp_server
from proto.client import CoreClient
from testkit.compat import MODEL, compat_fleet
from testkit.fakes.server import CannedError


async def test_llm_request_progress_carries_the_tokens(
    database_url: str, db: asyncpg.Connection
) -> None:
    messages: list[str] = []

    async def progress(_step: float, _total: float | None, message: str | None) -> None:
        messages.append(message or "")

    words = " ".join(f"m{i}" for i in range(12))
    async with (
        compat_fleet(database_url, db) as fleet,
        CoreClient(fleet.core.grpc_addr) as grpc_client,
        Client(build_mcp_server(grpc_client)) as client,
    ):
        result = await client.call_tool(
            "llm_request",
            {"prompt": words, "provider": "ollama", "model": MODEL, "timeout_seconds": 30},
            progress_callback=progress,
        )
    assert not result.is_error, result.content
    answer = result.structured_content
    assert answer is not None and answer["answer"] == f"echo: {words}"
    tokens = [m.removeprefix("progress: ") for m in messages if m.startswith("progress: ")]
    assert "".join(tokens) == answer["answer"]


async def test_llm_request_takes_constraints_and_fails_as_a_tool_error(
    database_url: str, db: asyncpg.Connection
) -> None:
    async with (
        compat_fleet(database_url, db, cloud=True) as fleet,
        CoreClient(fleet.core.grpc_addr) as grpc_client,
        Client(build_mcp_server(grpc_client)) as client,
    ):
        # The constraints object, as POST /v1/llm/request takes it: prefer_local -> the device.
        local = await client.call_tool(
            "llm_request", {"prompt": "hi", "constraints": {"prefer_local": True}}
        )
        assert not local.is_error, local.content
        assert local.structured_content is not None
        assert local.structured_content["device_id"] == "gpu1.ts.net."
        fleet.ollama.errors.append(CannedError(400, {"error": "invalid options"}))
        failed = await client.call_tool(
            "llm_request", {"prompt": "x", "model": MODEL, "timeout_seconds": 30}
        )
        assert failed.is_error and "invalid options" in str(failed.content)
        # No prompts: none advertised, and asking for one is invalid params.
        assert client.server_capabilities.prompts is None
        with pytest.raises(MCPError) as caught:
            await client.get_prompt("summarise")
        assert caught.value.error.code == -32602
