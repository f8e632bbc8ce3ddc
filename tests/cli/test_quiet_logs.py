"""Quiet by default: a machine without Tailscale hears about it once; httpx's per-request lines
only with LOG_LEVEL=DEBUG; no gRPC fork lines from any llm-mcp process."""

from __future__ import annotations

import dataclasses
import logging
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from llm_mcp.logs import setup_logging
from testkit.fakes.tailnet import FAKE_TAILSCALE
from testkit.support import start_core


async def test_missing_tailscale_is_one_warning_then_debug(
    database_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG, logger="core.fleet.discovery")
    missing = str(tmp_path / "no-such-tailscale")
    async with (
        start_core(database_url, tailscale_bin=missing) as core,
        httpx.AsyncClient(base_url=core.http_url, timeout=30) as http,
    ):
        for _ in range(3):
            assert (await http.post("/v1/discovery/run")).json()["summary"]["ok"] is False
        about_it = [r for r in caplog.records if "tailscale binary not found" in r.getMessage()]
        assert [r.levelname for r in about_it] == ["WARNING", "DEBUG", "DEBUG"]

        # A different problem (tailscaled down) is news again.
        monkeypatch.setenv("FAKE_TAILSCALE_STATUS", str(tmp_path / "absent.json"))
        discovery = core.runtime.fleet.discovery
        discovery.config = dataclasses.replace(discovery.config, tailscale_bin=str(FAKE_TAILSCALE))
        await http.post("/v1/discovery/run")
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert "tailscaled" in warnings[-1].getMessage(), "a different problem is a new WARNING"


@pytest.mark.parametrize(("level", "httpx_level"), [("INFO", "WARNING"), ("DEBUG", "DEBUG")])
def test_httpx_request_lines_only_with_debug(
    level: str, httpx_level: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogger("httpx").level)
    monkeypatch.setenv("LOG_LEVEL", level)
    try:
        setup_logging("core")
        assert logging.getLevelName(logging.getLogger("httpx").getEffectiveLevel()) == httpx_level
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        logging.getLogger("httpx").setLevel(saved[2])


def test_processes_start_with_grpc_fork_support_off() -> None:
    # Each service is `python -m llm_mcp …` or the `llm-mcp` script: both import llm_mcp first.
    code = "import llm_mcp, os; print(os.environ['GRPC_ENABLE_FORK_SUPPORT'])"
    env = {k: v for k, v in os.environ.items() if k != "GRPC_ENABLE_FORK_SUPPORT"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "false"
