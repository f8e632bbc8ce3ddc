"""The MCP bridge's llm_request carries streamed tokens as progress notifications."""

from __future__ import annotations

import asyncpg
from mcp import Client

from mcp_bridge.tools import build_mcp_server
from proto.client import CoreClient
from tests.compat_support import MODEL, compat_fleet


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
