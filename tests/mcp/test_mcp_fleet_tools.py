"""MCP tools over the fleet's RPCs: LlmRequest (routing), ListDevices/ListModels (fleet) and
GetStatus, against a real core."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from mcp import Client

from core.runtime import RunningCore
from mcp_bridge.tools import build_mcp_server
from proto.client import CoreClient
from testkit.support import running_worker
from worker.handlers.base import JobContext, Outcome


async def fake_chat(job: JobContext) -> Outcome:
    """An OpenAI-style chat completion, as openai.chat / openrouter.chat workers return."""
    return Outcome(
        result={
            "choices": [{"message": {"role": "assistant", "content": "pong"}}],
            "usage": {"prompt_tokens": 7, "completion_tokens": 1},
        }
    )


CLOUD = {"openai.chat": fake_chat, "openrouter.chat": fake_chat}


@contextlib.asynccontextmanager
async def in_process(core: RunningCore) -> AsyncIterator[Client]:
    async with CoreClient(core.grpc_addr) as grpc_client:
        async with Client(build_mcp_server(grpc_client)) as client:
            yield client


class Progress:
    def __init__(self) -> None:
        self.messages: list[str | None] = []

    async def __call__(self, _progress: float, _total: float | None, message: str | None) -> None:
        self.messages.append(message)


async def call(client: Client, tool: str, args: dict[str, Any], **kw: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, args, **kw)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


async def test_llm_request_waits_with_progress_and_returns_the_answer(core: RunningCore) -> None:
    async with running_worker(core.grpc_addr, handlers=CLOUD), in_process(core) as client:
        progress = Progress()
        answer = await call(
            client,
            "llm_request",
            {"prompt": "ping", "provider": "openai", "timeout_seconds": 30},
            progress_callback=progress,
        )
    assert answer["finished"] is True and answer["status"] == "done"
    assert answer["answer"] == "pong"
    assert answer["provider"] == "openai" and answer["kind"] == "openai.chat"
    assert answer["tokens_in"] == 7 and answer["tokens_out"] == 1
    assert progress.messages[0].startswith("routed to openai")
    assert len(progress.messages) >= 3 and progress.messages[-1] == "done: job is done"


async def test_llm_request_auto_routes_and_can_return_at_once(core: RunningCore) -> None:
    async with running_worker(core.grpc_addr, handlers=CLOUD), in_process(core) as client:
        routed = await call(client, "llm_request", {"prompt": "ping", "wait": False})
        assert routed["finished"] is False and routed["job_id"]
        assert routed["provider"] == "openrouter"  # auto: OpenRouter first when available
        assert routed["reason"]
        waited = await call(client, "wait_job", {"job_id": routed["job_id"], "timeout_seconds": 30})
        assert waited["job"]["status"] == "done"


async def test_list_devices_and_models(core: RunningCore, db: asyncpg.Connection) -> None:
    await db.execute(
        "INSERT INTO devices (id, name, online, ollama_addr) "
        "VALUES ('box.tailnet.ts.net.', 'box', true, 'http://100.64.0.1:11434')"
    )
    await db.execute("INSERT INTO models (name, family) VALUES ('llama3:8b', 'llama')")
    await db.execute(
        "INSERT INTO device_models (device_id, model) VALUES ('box.tailnet.ts.net.', 'llama3:8b')"
    )
    async with in_process(core) as client:
        devices = (await call(client, "list_devices", {}))["devices"]
        assert [d["id"] for d in devices] == ["box.tailnet.ts.net."]
        online = (await call(client, "list_devices", {"online_only": True}))["devices"]
        assert len(online) == 1
        models = (await call(client, "list_models", {}))["models"]
        assert "llama3:8b" in str(models)


async def test_queue_stats_from_the_status_snapshot(core: RunningCore) -> None:
    async with in_process(core) as client:
        first = (await call(client, "submit_job", {"kind": "echo"}))["job_id"]
        await call(client, "submit_job", {"kind": "echo"})
        await call(client, "cancel_job", {"job_id": first})
        stats = await call(client, "queue_stats", {})
    assert stats["counts"]["queued"] == 1 and stats["counts"]["canceled"] == 1
