"""The MCP server through the official SDK client: in-process, over Streamable HTTP (both
protocol eras) and over stdio, against a real core, Postgres and worker."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp_types.version import LATEST_HANDSHAKE_VERSION, LATEST_MODERN_VERSION

from core.runtime import RunningCore
from mcp_bridge.tools import build_mcp_server
from proto.client import CoreClient
from testkit.bridge import start_bridge
from testkit.support import eventually, running_worker, start_core

UNKNOWN_JOB = "00000000-0000-0000-0000-000000000000"
TOOLS = {
    "llm_request",
    "submit_job",
    "get_job",
    "wait_job",
    "cancel_job",
    "list_devices",
    "list_models",
    "queue_stats",
}


@contextlib.asynccontextmanager
async def in_process(core: RunningCore) -> AsyncIterator[Client]:
    # A context manager, not a fixture: the SDK's task groups must end in the task that
    # started them, and pytest-asyncio tears fixtures down in another task.
    async with CoreClient(core.grpc_addr) as grpc_client:
        async with Client(build_mcp_server(grpc_client)) as client:
            yield client


class Progress:
    """Collects progress notifications of one tool call."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, str | None]] = []

    async def __call__(self, progress: float, _total: float | None, message: str | None) -> None:
        self.seen.append((progress, message))


async def call(client: Client, tool: str, args: dict[str, Any], **kw: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, args, **kw)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


async def call_error(client: Client, tool: str, args: dict[str, Any]) -> str:
    result = await client.call_tool(tool, args)
    assert result.is_error, result.structured_content
    return result.content[0].text


async def test_tools_are_listed_with_descriptions_and_output_schemas(core: RunningCore) -> None:
    async with in_process(core) as mcp_client:
        tools = (await mcp_client.list_tools()).tools
        assert {t.name for t in tools} == TOOLS
        for tool in tools:
            assert tool.description and len(tool.description) > 30, tool.name
            assert tool.output_schema and tool.output_schema["type"] == "object", tool.name
        templates = (await mcp_client.list_resource_templates()).resource_templates
        assert [t.uri_template for t in templates] == ["job://{job_id}"]


async def test_submit_wait_get_and_read_an_echo_job(core: RunningCore) -> None:
    async with in_process(core) as mcp_client:
        submitted = await call(mcp_client, "submit_job", {"kind": "echo", "payload": {"x": 1}})
        assert submitted["status"] == "queued" and submitted["created"] is True
        job_id = submitted["job_id"]

        progress = Progress()
        async with running_worker(core.grpc_addr):
            waited = await call(
                mcp_client,
                "wait_job",
                {"job_id": job_id, "timeout_seconds": 20},
                progress_callback=progress,
            )
        assert waited["finished"] is True
        assert waited["job"]["status"] == "done" and waited["job"]["result"] == {"x": 1}
        # One notification per job event, numbered, the last one saying the job is done.
        assert [p for p, _ in progress.seen] == [1, 2, 3]
        assert progress.seen[-1][1] == "done: job is done"

        job = await call(mcp_client, "get_job", {"job_id": job_id})
        assert job["status"] == "done" and job["source"] == "mcp" and job["attempts"] == 1

        resource = await mcp_client.read_resource(f"job://{job_id}")
        assert '"status": "done"' in resource.contents[0].text


async def test_wait_job_times_out_without_a_worker(core: RunningCore) -> None:
    async with in_process(core) as mcp_client:
        job_id = (await call(mcp_client, "submit_job", {"kind": "echo"}))["job_id"]
        waited = await call(mcp_client, "wait_job", {"job_id": job_id, "timeout_seconds": 0.3})
        assert waited["finished"] is False and waited["job"]["status"] == "queued"


async def test_cancel_job_and_queue_stats(core: RunningCore) -> None:
    async with in_process(core) as mcp_client:
        first = (await call(mcp_client, "submit_job", {"kind": "echo"}))["job_id"]
        await call(mcp_client, "submit_job", {"kind": "echo", "priority": 5})
        canceled = await call(mcp_client, "cancel_job", {"job_id": first})
        assert canceled["status"] == "canceled"
        stats = await call(mcp_client, "queue_stats", {})
        assert stats["counts"] == {"queued": 1, "running": 0, "done": 0, "error": 0, "canceled": 1}
        assert stats["total"] == 2 and stats["capped"] is False


async def test_tool_errors_do_not_end_the_session(core: RunningCore) -> None:
    async with in_process(core) as mcp_client:
        assert f"job {UNKNOWN_JOB} not found" in await call_error(
            mcp_client, "get_job", {"job_id": UNKNOWN_JOB}
        )
        assert "not found" in await call_error(mcp_client, "wait_job", {"job_id": UNKNOWN_JOB})
        assert "not found" in await call_error(mcp_client, "cancel_job", {"job_id": UNKNOWN_JOB})
        # Refused by the tool's schema, and by core's own validation.
        assert "priority" in await call_error(
            mcp_client, "submit_job", {"kind": "echo", "priority": 5000}
        )
        assert "invalid input" in await call_error(mcp_client, "submit_job", {"kind": "bad kind"})
        assert "prompt" in await call_error(mcp_client, "llm_request", {})
        with pytest.raises(Exception, match="not found"):
            await mcp_client.read_resource(f"job://{UNKNOWN_JOB}")
        # The session still works.
        assert (await call(mcp_client, "queue_stats", {}))["total"] == 0


async def test_rpcs_a_core_lacks_are_tool_errors() -> None:
    """A core that answers UNIMPLEMENTED (an older build) gets a clear tool error per tool."""
    server = grpc.aio.server()
    # No Core service registered: every RPC is answered UNIMPLEMENTED.
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with CoreClient(f"127.0.0.1:{port}") as grpc_client:
            async with Client(build_mcp_server(grpc_client)) as client:
                for tool, args in (
                    ("list_devices", {}),
                    ("list_models", {}),
                    ("llm_request", {"prompt": "hi"}),
                    ("get_job", {"job_id": UNKNOWN_JOB}),
                ):
                    message = await call_error(client, tool, args)
                    assert f"{tool} is not available: core does not implement it yet" in message
                # queue_stats falls back from GetStatus to ListJobs, which is missing too.
                assert "queue_stats is not available" in await call_error(client, "queue_stats", {})
    finally:
        await server.stop(None)


async def test_core_unavailable_is_a_tool_error() -> None:
    async with CoreClient("127.0.0.1:1", timeout=5) as grpc_client:
        async with Client(build_mcp_server(grpc_client)) as client:
            for tool, args in (
                ("get_job", {"job_id": UNKNOWN_JOB}),
                ("submit_job", {"kind": "echo"}),
                ("queue_stats", {}),
                ("list_devices", {}),
                ("llm_request", {"prompt": "hi"}),
            ):
                message = await call_error(client, tool, args)
                assert "core is unavailable at 127.0.0.1:1" in message, (tool, message)


@pytest.mark.parametrize(
    ("mode", "version"),
    [("legacy", LATEST_HANDSHAKE_VERSION), ("auto", LATEST_MODERN_VERSION)],
    ids=["session-era", "current-era"],
)
@pytest.mark.slow
async def test_streamable_http_in_both_protocol_eras(
    core: RunningCore, mode: str, version: str
) -> None:
    async with (
        start_bridge(core.grpc_addr) as bridge,
        running_worker(core.grpc_addr),
        Client(bridge.mcp_url, mode=mode) as client,
    ):
        assert client.protocol_version == version
        assert {t.name for t in (await client.list_tools()).tools} == TOOLS
        job_id = (await call(client, "submit_job", {"kind": "echo", "payload": {"m": mode}}))[
            "job_id"
        ]
        progress = Progress()
        waited = await call(
            client,
            "wait_job",
            {"job_id": job_id, "timeout_seconds": 20},
            progress_callback=progress,
        )
        assert waited["job"]["result"] == {"m": mode}
        assert len(progress.seen) >= 2 and progress.seen[-1][1] == "done: job is done"
        assert "not found" in await call_error(client, "get_job", {"job_id": UNKNOWN_JOB})
        resource = await client.read_resource(f"job://{job_id}")
        assert job_id in resource.contents[0].text


@pytest.mark.parametrize(
    ("mode", "version"),
    [("legacy", LATEST_HANDSHAKE_VERSION), ("auto", LATEST_MODERN_VERSION)],
    ids=["session-era", "current-era"],
)
@pytest.mark.slow
async def test_stdio_subprocess(core: RunningCore, mode: str, version: str) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "llm_mcp", "bridge", "--stdio"],
        env={**os.environ, "CORE_GRPC_ADDR": core.grpc_addr, "LOG_LEVEL": "WARNING"},
    )
    async with running_worker(core.grpc_addr), Client(params, mode=mode) as client:
        assert client.protocol_version == version
        assert {t.name for t in (await client.list_tools()).tools} == TOOLS
        job_id = (await call(client, "submit_job", {"kind": "echo", "payload": {"io": "stdio"}}))[
            "job_id"
        ]
        progress = Progress()
        waited = await call(
            client,
            "wait_job",
            {"job_id": job_id, "timeout_seconds": 20},
            progress_callback=progress,
        )
        assert waited["job"]["result"] == {"io": "stdio"}
        assert progress.seen
        assert "not found" in await call_error(client, "get_job", {"job_id": UNKNOWN_JOB})


@pytest.mark.slow
async def test_core_going_away_mid_wait_is_a_tool_error(database_url: str) -> None:
    starting = start_core(database_url)
    core = await starting.__aenter__()
    running = True
    try:
        # Two resumes of the cut stream rather than ten seconds of them, then the error.
        async with CoreClient(core.grpc_addr, timeout=5, stream_resumes=2) as grpc_client:
            async with Client(build_mcp_server(grpc_client)) as client:
                job_id = (await call(client, "submit_job", {"kind": "echo"}))["job_id"]
                progress = Progress()
                waiting = asyncio.create_task(
                    client.call_tool(
                        "wait_job",
                        {"job_id": job_id, "timeout_seconds": 120},
                        progress_callback=progress,
                    )
                )
                await eventually(lambda: progress.seen)  # following the job now
                await starting.__aexit__(None, None, None)
                running = False
                result = await asyncio.wait_for(waiting, 30)
                assert result.is_error
                assert "core is unavailable" in result.content[0].text
                # The session survives; core is still away, so this is a tool error too.
                assert "unavailable" in await call_error(client, "get_job", {"job_id": job_id})
    finally:
        if running:
            await starting.__aexit__(None, None, None)


def _readme_stdio_server() -> dict[str, Any]:
    root = Path(__file__).resolve().parents[2]
    block = re.search(r'```json\n(\{"mcpServers".*?)```', (root / "README.md").read_text(), re.S)
    assert block, "README shows the stdio config"
    return json.loads(block.group(1))["mcpServers"]["llm-mcp"]


@pytest.mark.slow
async def test_the_readmes_stdio_config_starts_the_bridge(core: RunningCore) -> None:
    server = _readme_stdio_server()
    # The placeholder is the clone's path; the client runs with no PATH of ours.
    command = server["command"].replace("/path/to/llm-mcp/.venv/bin/python", sys.executable)
    assert command.startswith("/")
    env = {**server["env"], "CORE_GRPC_ADDR": core.grpc_addr, "PATH": "/usr/bin:/bin"}
    params = StdioServerParameters(command=command, args=server["args"], env=env)
    async with Client(params) as client:
        assert {t.name for t in (await client.list_tools()).tools} == TOOLS
