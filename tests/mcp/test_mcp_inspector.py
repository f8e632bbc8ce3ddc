"""An external MCP client against the running bridge: the official MCP Inspector CLI.

The test installs the pinned Inspector with npm into a cache directory on first use
(LLM_MCP_TEST_CACHE, default ~/.cache/llm-mcp-tests); when npm is missing or cannot install
it, the test is skipped with npm's reason.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from core.runtime import RunningCore
from proto.client import CoreClient
from testkit.bridge import start_bridge
from testkit.support import running_worker

INSPECTOR = "@modelcontextprotocol/inspector@2.12.0"
TOKEN = "inspector-token"
NPM_TIMEOUT = 600

pytestmark = pytest.mark.external


@pytest.fixture(scope="session")
def inspector_bin() -> Path:
    cache = Path(os.environ.get("LLM_MCP_TEST_CACHE", Path.home() / ".cache" / "llm-mcp-tests"))
    prefix = cache / ("inspector-" + INSPECTOR.rsplit("@", 1)[1])
    binary = prefix / "node_modules" / ".bin" / "mcp-inspector"
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip(f"npm is not installed: it installs {INSPECTOR} for this test")
        prefix.mkdir(parents=True, exist_ok=True)
        try:
            done = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), INSPECTOR],
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            pytest.skip(f"npm install {INSPECTOR} took over {NPM_TIMEOUT} s")
        if done.returncode != 0:
            pytest.skip(f"npm install {INSPECTOR} failed: {done.stderr[-1000:]}")
    assert binary.exists()
    return binary


async def inspect(binary: Path, url: str, *args: str) -> Any:
    proc = await asyncio.create_subprocess_exec(
        str(binary),
        "--cli",
        url,
        "--transport",
        "http",
        "--header",
        f"Authorization: Bearer {TOKEN}",
        # Its default 15 s to connect runs out on a busy machine; the 120 s below still bound it.
        "--connect-timeout",
        "90000",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, f"inspector failed ({proc.returncode}): {err.decode()[-2000:]}"
    return json.loads(out)


@pytest.mark.slow
async def test_inspector_lists_tools_and_calls_one(core: RunningCore, inspector_bin: Path) -> None:
    async with (
        start_bridge(core.grpc_addr, mcp_bridge_token=TOKEN) as bridge,
        running_worker(core.grpc_addr),
    ):
        listed = await inspect(inspector_bin, bridge.mcp_url, "--method", "tools/list")
        names = {tool["name"] for tool in listed["tools"]}
        assert {"llm_request", "submit_job", "wait_job", "get_job"} <= names

        called = await inspect(
            inspector_bin,
            bridge.mcp_url,
            "--method",
            "tools/call",
            "--tool-name",
            "submit_job",
            "--tool-arg",
            "kind=echo",
            "source=inspector",
        )
        job_id = called["structuredContent"]["job_id"]
        assert called["structuredContent"]["status"] == "queued"
        assert not called.get("isError")
        async with CoreClient(core.grpc_addr) as grpc_client:
            job = await grpc_client.get_job(job_id)
        assert job.source == "inspector"
