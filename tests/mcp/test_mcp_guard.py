"""Who may talk to the bridge: bearer token, Host and Origin allow-lists, loopback by default."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from pydantic import ValidationError

from core.runtime import RunningCore
from mcp_bridge.guard import host_allowed, origin_allowed
from mcp_bridge.settings import BridgeSettings
from testkit.bridge import start_bridge

TOKEN = "s3cret-bridge-token"


def test_host_patterns() -> None:
    allowed = ["mcp.example.com", "10.0.0.5:3333", "box:*"]
    assert host_allowed("mcp.example.com", allowed)
    assert host_allowed("mcp.example.com:3333", allowed)
    assert host_allowed("10.0.0.5:3333", allowed)
    assert not host_allowed("10.0.0.5:8080", allowed)
    assert host_allowed("box:1", allowed)
    assert not host_allowed("evil.example", allowed)
    assert not host_allowed(None, allowed)


def test_origin_patterns() -> None:
    allowed = ["https://app.example", "http://localhost:*"]
    assert origin_allowed(None, allowed)  # not a browser
    assert origin_allowed("https://app.example", allowed)
    assert origin_allowed("http://localhost:5173", allowed)
    assert not origin_allowed("http://localhost.evil.com", allowed)
    assert not origin_allowed("https://evil.example", allowed)


def test_off_loopback_needs_token_and_allow_lists() -> None:
    with pytest.raises(ValidationError) as refused:
        BridgeSettings(mcp_host="0.0.0.0", mcp_bridge_token=TOKEN)
    message = str(refused.value)
    assert "MCP_ALLOWED_HOSTS" in message and "MCP_ALLOWED_ORIGINS" in message
    assert "MCP_BRIDGE_TOKEN" not in message.split("needs", 1)[1]
    ok = BridgeSettings(
        mcp_host="0.0.0.0",
        mcp_bridge_token=TOKEN,
        mcp_allowed_hosts="mcp.example.com, 10.0.0.5",
        mcp_allowed_origins="https://app.example",
    )
    assert ok.host_allow_list() == ["mcp.example.com", "10.0.0.5"]
    assert BridgeSettings().mcp_host == "127.0.0.1" and BridgeSettings().mcp_port == 3333


def test_bridge_command_refuses_to_start_exposed_without_guards() -> None:
    env = {**os.environ, "MCP_HOST": "0.0.0.0", "MCP_PORT": "0"}
    for name in ("MCP_BRIDGE_TOKEN", "MCP_ALLOWED_HOSTS", "MCP_ALLOWED_ORIGINS"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "llm_mcp", "bridge"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "MCP_HOST=0.0.0.0 is not a loopback address" in done.stderr
    assert "MCP_BRIDGE_TOKEN" in done.stderr


async def test_token_is_required_when_set(core: RunningCore) -> None:
    async with (
        start_bridge(core.grpc_addr, mcp_bridge_token=TOKEN) as bridge,
        httpx.AsyncClient(base_url=bridge.url) as http,
    ):
        assert (await http.get("/health")).status_code == 200  # open, like core's
        missing = await http.post("/submit", json={"kind": "echo"})
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        assert missing.json()["error"]["code"] == "unauthorized"
        wrong = await http.get("/jobs/x", headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401
        mcp_without = await http.post(
            "/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={"accept": "application/json, text/event-stream"},
        )
        assert mcp_without.status_code == 401
        right = await http.post(
            "/submit", json={"kind": "echo"}, headers={"authorization": f"Bearer {TOKEN}"}
        )
        assert right.status_code == 201

        authed = create_mcp_http_client(headers={"authorization": f"Bearer {TOKEN}"})
        async with Client(streamable_http_client(bridge.mcp_url, http_client=authed)) as client:
            assert len((await client.list_tools()).tools) == 8


async def test_bad_origin_and_host_are_refused(core: RunningCore) -> None:
    async with (
        start_bridge(core.grpc_addr) as bridge,
        httpx.AsyncClient(base_url=bridge.url) as http,
    ):
        evil = await http.post(
            "/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={"origin": "https://evil.example", "accept": "application/json"},
        )
        assert evil.status_code == 403
        assert evil.json()["error"]["code"] == "origin_not_allowed"
        evil_health = await http.get("/health", headers={"origin": "https://evil.example"})
        assert evil_health.status_code == 403
        local = await http.get("/health", headers={"origin": "http://localhost:6274"})
        assert local.status_code == 200
        rebound = await http.get("/health", headers={"host": "attacker.example"})
        assert rebound.status_code == 421


async def test_allow_lists_from_settings(core: RunningCore) -> None:
    async with (
        start_bridge(
            core.grpc_addr,
            mcp_allowed_hosts="mcp.internal",
            mcp_allowed_origins="https://agents.internal",
        ) as bridge,
        httpx.AsyncClient(base_url=bridge.url) as http,
    ):
        assert (await http.get("/health")).status_code == 421  # 127.0.0.1 is not listed now
        listed = {"host": "mcp.internal", "origin": "https://agents.internal"}
        assert (await http.get("/health", headers=listed)).status_code == 200
        other = {"host": "mcp.internal", "origin": "http://localhost:3000"}
        assert (await http.get("/health", headers=other)).status_code == 403
