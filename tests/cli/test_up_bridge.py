"""`llm-mcp up` starts the MCP bridge beside core and the workers, and checks its port."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys

import httpx
import pytest
from mcp import Client

from llm_mcp.pgcluster import free_port
from testkit.support import eventually


@pytest.mark.slow
async def test_up_starts_the_bridge_and_prints_its_urls(database_url: str) -> None:
    http_port, grpc_port, bridge_port = free_port(), free_port(), free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "llm_mcp",
        "up",
        "--http-port",
        str(http_port),
        "--grpc-port",
        str(grpc_port),
        "--bridge-port",
        str(bridge_port),
        env={**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        while not lines or "ready" not in lines[-1]:
            line = await asyncio.wait_for(proc.stdout.readline(), 90)
            assert line, "llm-mcp up ended early:\n" + "".join(lines)
            lines.append(line.decode())
        bridge_url = f"http://127.0.0.1:{bridge_port}"
        assert any(f"{bridge_url}  (MCP endpoint {bridge_url}/mcp)" in line for line in lines)

        async with httpx.AsyncClient(base_url=bridge_url, timeout=30) as http:
            health = (await http.get("/health")).json()
            assert health["core"]["reachable"] is True
            job_id = (await http.post("/submit", json={"kind": "echo"})).json()["job_id"]

            async def done() -> bool:
                return (await http.get(f"/jobs/{job_id}")).json()["status"] == "done"

            await eventually(done, within=30)
        async with Client(f"{bridge_url}/mcp") as client:
            assert "llm_request" in {t.name for t in (await client.list_tools()).tools}
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 90)
    assert proc.returncode == 0


async def test_up_refuses_a_taken_bridge_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "llm_mcp",
            "up",
            "--http-port",
            str(free_port()),
            "--grpc-port",
            str(free_port()),
            "--bridge-port",
            str(port),
            env={**os.environ, "DATABASE_URL": "postgresql://unused/x"},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2
    assert f"port {port} (MCP bridge)" in err.decode() and "--bridge-port" in err.decode()
