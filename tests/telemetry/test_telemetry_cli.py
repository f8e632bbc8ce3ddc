"""`llm-mcp telemetry` and `llm-mcp up` as real processes, against the fake Telegram."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.runtime import RunningCore
from llm_mcp.pgcluster import free_port
from testkit.fakes.telegram import TOKEN, FakeTelegram, fake_telegram
from testkit.support import eventually


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with fake_telegram() as fake:
        yield fake


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env.pop("DATABASE_URL", None)
    env.update(extra)
    return env


def telegram_env(fake: FakeTelegram, state: Path) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_CHAT_ID": "42",
        "TELEGRAM_API_BASE_URL": f"{fake.bot_url}/bot",
        "TELEGRAM_STATE_FILE": str(state),
        "TELEGRAM_UPDATE_INTERVAL": "0.1",
    }


async def test_telemetry_without_telegram_settings_says_so_and_exits_non_zero() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "llm_mcp",
        "telemetry",
        env=clean_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode != 0
    assert b"Telegram is not configured" in stderr and b"TELEGRAM_BOT_TOKEN" in stderr


@pytest.mark.slow
async def test_telemetry_process_keeps_the_message_and_stops_on_sigterm(
    core: RunningCore, telegram: FakeTelegram, tmp_path: Path
) -> None:
    env = clean_env(CORE_GRPC_ADDR=core.grpc_addr, **telegram_env(telegram, tmp_path / "s.json"))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "llm_mcp", "telemetry", env=env
    )
    try:
        await eventually(lambda: telegram.messages, within=30)
        assert "<b>Queue</b>" in next(iter(telegram.messages.values()))
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 30)
    assert code == 0
    assert len(telegram.sent()) == 1


@pytest.mark.slow
async def test_up_starts_telemetry_when_telegram_is_configured(
    database_url: str, telegram: FakeTelegram, tmp_path: Path
) -> None:
    env = clean_env(DATABASE_URL=database_url, **telegram_env(telegram, tmp_path / "s.json"))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "llm_mcp",
        "up",
        "--workers",
        "1",
        "--http-port",
        str(free_port()),
        "--grpc-port",
        str(free_port()),
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        await eventually(lambda: telegram.messages, within=60)
        # The worker registered with core shows up in the status message.
        await eventually(
            lambda: "<b>Workers 1 online</b>" in next(iter(telegram.messages.values())),
            within=60,
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        stdout, _ = await asyncio.wait_for(proc.communicate(), 90)
    assert b"telemetry    on" in stdout
    assert proc.returncode == 0
