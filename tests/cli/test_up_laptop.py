"""The laptop path end to end: `llm-mcp up --host 127.0.0.42` becomes ready, says what its
Ollama and cloud key answered, and the CLI routes a request (streamed), lists jobs, and
knows its version."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from llm_mcp.pgcluster import PG_SYSTEM_USER, free_port
from testkit.fakes.ollama import FakeOllama
from testkit.fakes.openai import FakeOpenAI
from testkit.fakes.server import serving
from tests.cli.up_support import up_command, up_env

pytestmark = pytest.mark.slow
HOST = "127.0.0.42"


async def _read_until(stream: asyncio.StreamReader, needle: str, within: float) -> str:
    seen: list[str] = []
    async with asyncio.timeout(within):
        while line := (await stream.readline()).decode():
            seen.append(line)
            if needle in line:
                return "".join(seen)
    raise AssertionError(f"{needle!r} not printed:\n" + "".join(seen))


async def _cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "llm_mcp",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_up_on_any_loopback_address_tells_the_truth_and_serves_the_cli(
    tmp_path: Path,
) -> None:
    ollama = FakeOllama("127.0.0.43", models=["llama3.2:1b"], chunk_delay=0.05)
    cloud = FakeOpenAI("127.0.0.44", api_key="sk-the-right-one")
    async with serving(ollama), serving(cloud):
        http_port = free_port(HOST)
        env = up_env(
            OLLAMA_BASE_URL=ollama.url,
            OPENAI_API_KEY="sk-a-wrong-one",
            OPENAI_BASE_URL=cloud.base_url,
            OPENROUTER_API_KEY="",
            CORE_URL=f"http://{HOST}:{http_port}",
        )
        ports = {"workers": 1, "host": HOST, "bridge_port": free_port(HOST)}
        up = await asyncio.create_subprocess_exec(
            *up_command(tmp_path, http_port, free_port(HOST), **ports),  # type: ignore[arg-type]
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            assert up.stdout is not None
            printed = await _read_until(up.stdout, "ready", within=150)
            # The bridge accepted up's own probe on 127.0.0.42, so up became ready.
            assert f"MCP bridge   http://{HOST}:" in printed
            assert f"ollama       {ollama.url}: 1 models (llama3.2:1b)" in printed
            assert "openai       OPENAI_API_KEY refused (401)" in printed
            assert "openrouter   off (no OPENROUTER_API_KEY" in printed
            if os.geteuid() == 0:
                assert f"as root       Postgres runs as system user {PG_SYSTEM_USER}" in printed

            # `request` prints the answer as it streams: output comes while it still runs.
            request = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "llm_mcp",
                "request",
                "hello there laptop",
                "--prefer-local",
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            assert request.stdout is not None and request.stderr is not None
            first = await asyncio.wait_for(request.stdout.read(4), 60)
            running_after_first_token = request.returncode is None
            rest = await request.stdout.read()
            routed = (await request.stderr.read()).decode()
            assert await request.wait() == 0, routed
            assert (first + rest).decode() == "echo: hello there laptop\n"
            assert running_after_first_token, "tokens are printed as they arrive"
            assert "ollama llama3.2:1b" in routed and "prefer_local" in routed

            code, listed, _ = await _cli("jobs", "--limit", "5", env=env)
            assert code == 0
            header, row = listed.splitlines()[:2]
            assert header.split()[:3] == ["JOB", "STATUS", "KIND"]
            assert row.split()[1:3] == ["done", "ollama.generate"]
            code, none, _ = await _cli("jobs", "--status", "error", env=env)
            assert (code, none.strip()) == (0, "no jobs")
        finally:
            up.send_signal(signal.SIGTERM)
            await asyncio.wait_for(up.wait(), 90)

    code, version, _ = await _cli("--version", env=env)
    assert code == 0 and version.startswith("llm-mcp 0.")
