"""Telemetry end to end: real core + Postgres, python-telegram-bot against a fake Bot API,
and a fake telegram-mcp gateway, all on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from core.runtime import RunningCore
from proto.client import CoreClient
from telemetry.gateway import GatewayTransport
from telemetry.main import build_service, build_transport
from telemetry.service import TelemetryService
from telemetry.settings import TelemetrySettings
from telemetry.transport import FloodWait, MessageGone, MessageNotModified, RouteUnavailable
from testkit.fakes.telegram import TOKEN, FakeTelegram, closed_port_url, fake_telegram
from testkit.support import eventually, start_core


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with fake_telegram() as fake:
        yield fake


def direct_settings(grpc_addr: str, fake: FakeTelegram, state: Path, **extra: Any):
    values: dict[str, Any] = {
        "core_grpc_addr": grpc_addr,
        "telegram_bot_token": TOKEN,
        "telegram_chat_id": "42",
        "telegram_api_base_url": f"{fake.bot_url}/bot",
        "telegram_state_file": state,
        "telegram_update_interval": 0.05,
        "telegram_request_timeout": 5,
    }
    values.update(extra)
    return TelemetrySettings(**values)


@contextlib.asynccontextmanager
async def telemetry(settings: TelemetrySettings) -> AsyncIterator[TelemetryService]:
    transport = build_transport(settings)
    service = build_service(settings, transport)
    try:
        yield service
    finally:
        await service.close()
        await transport.close()


@contextlib.asynccontextmanager
async def looping(service: TelemetryService) -> AsyncIterator[asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


def only_message(fake: FakeTelegram) -> str:
    [text] = fake.messages.values()
    return text


async def test_one_send_then_edits_and_no_edit_for_unchanged_text(
    core: RunningCore, grpc_client: CoreClient, telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with telemetry(direct_settings(core.grpc_addr, telegram, tmp_path / "s.json")) as svc:
        assert await svc.run_once() == "sent"
        assert "queued 0" in only_message(telegram)
        assert await svc.run_once() == "unchanged"
        assert await svc.run_once() == "unchanged"
        assert telegram.edits() == []  # nothing changed: nothing sent
        await grpc_client.submit_job("echo", {})
        assert await svc.run_once() == "edited"
    assert len(telegram.sent()) == 1
    assert "queued 1" in only_message(telegram)
    assert [c.params["parse_mode"] for c in telegram.edits()] == ["HTML"]


async def test_restart_keeps_editing_the_same_message(
    core: RunningCore, grpc_client: CoreClient, telegram: FakeTelegram, tmp_path: Path
) -> None:
    settings = direct_settings(core.grpc_addr, telegram, tmp_path / "state" / "s.json")
    async with telemetry(settings) as svc:
        await svc.run_once()
    first_id = int(json.loads(settings.telegram_state_file.read_text())["message_id"])

    # Restarted with the same text: Telegram says "not modified", which is success.
    async with telemetry(settings) as svc:
        assert await svc.run_once() == "unchanged"
    assert telegram.edits()[-1].status == 400

    await grpc_client.submit_job("echo", {})
    async with telemetry(settings) as svc:
        assert await svc.run_once() == "edited"
    assert len(telegram.sent()) == 1
    assert int(telegram.edits()[-1].params["message_id"]) == first_id
    assert "queued 1" in telegram.messages[first_id]


async def test_deleted_message_is_replaced(
    core: RunningCore, grpc_client: CoreClient, telegram: FakeTelegram, tmp_path: Path
) -> None:
    settings = direct_settings(core.grpc_addr, telegram, tmp_path / "s.json")
    async with telemetry(settings) as svc:
        await svc.run_once()
        [old_id] = telegram.messages
        telegram.delete(old_id)
        await grpc_client.submit_job("echo", {})
        assert await svc.run_once() == "sent"
    [new_id] = telegram.messages
    assert new_id != old_id and "queued 1" in telegram.messages[new_id]
    assert json.loads(settings.telegram_state_file.read_text())["message_id"] == str(new_id)


async def test_flood_control_is_waited_out_and_stale_frames_dropped(
    core: RunningCore, grpc_client: CoreClient, telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with telemetry(direct_settings(core.grpc_addr, telegram, tmp_path / "s.json")) as svc:
        await svc.run_once()
        telegram.fail_next("editMessageText", 429, "Too Many Requests: retry after 1", 1)
        await grpc_client.submit_job("echo", {})
        async with looping(svc):
            await eventually(lambda: any(c.status == 429 for c in telegram.calls))
            await grpc_client.submit_job("echo", {})  # a newer frame while we wait
            await eventually(lambda: "queued 2" in only_message(telegram), within=10)
    flood = next(c for c in telegram.calls if c.status == 429)
    after = [c for c in telegram.calls if c.at > flood.at]
    assert after and after[0].at - flood.at >= 0.95  # nothing sent during the wait
    # The frame that was refused ("queued 1") was dropped, not sent late.
    assert not any("queued 1" in c.params.get("text", "") for c in after)


async def test_gateway_route_sends_edits_and_tolerates_not_modified(
    core: RunningCore, grpc_client: CoreClient, telegram: FakeTelegram, tmp_path: Path
) -> None:
    settings = TelemetrySettings(
        core_grpc_addr=core.grpc_addr,
        telegram_use_mcp=True,
        telegram_mcp_base_url=telegram.gateway_url,
        telegram_mcp_bot_id="ops-bot",
        telegram_mcp_chat_id="-100200",
        telegram_state_file=tmp_path / "s.json",
    )
    async with telemetry(settings) as svc:
        assert await svc.run_once() == "sent"
    async with telemetry(settings) as svc:  # restart: the same text, "not modified" on 502
        assert await svc.run_once() == "unchanged"
        await grpc_client.submit_job("echo", {})
        assert await svc.run_once() == "edited"
    [send] = telegram.sent("gateway")
    assert send.params == {
        "chat_id": "-100200",
        "text": send.params["text"],
        "parse_mode": "HTML",
        "bot_id": "ops-bot",
    }
    edits = telegram.edits()
    assert {c.route for c in edits} == {"gateway"}
    assert edits[0].status == 502
    assert set(edits[-1].params) == {"text", "parse_mode", "bot_id", "message_id"}
    assert "queued 1" in only_message(telegram)


@pytest.mark.parametrize("gateway", ["refusing", "503"])
async def test_gateway_failure_falls_back_to_direct(
    gateway: str, core: RunningCore, telegram: FakeTelegram, tmp_path: Path
) -> None:
    telegram.gateway_down = True
    settings = direct_settings(
        core.grpc_addr,
        telegram,
        tmp_path / "s.json",
        telegram_use_mcp=True,
        telegram_mcp_base_url=closed_port_url() if gateway == "refusing" else telegram.gateway_url,
        telegram_mcp_fallback_direct=True,
    )
    async with telemetry(settings) as svc:
        assert await svc.run_once() == "sent"
    assert len(telegram.sent("bot")) == 1
    assert "<b>Queue</b>" in only_message(telegram)


async def test_compat_url_is_tried_once_when_the_default_is_unreachable(
    telegram: FakeTelegram,
) -> None:
    transport = GatewayTransport(
        closed_port_url(), chat_id="1", bot_id=None, timeout=5, compat_url=telegram.gateway_url
    )
    try:
        message_id = await transport.send("<b>hi</b>")
        await transport.edit(message_id, "<b>hi again</b>")
    finally:
        await transport.close()
    assert transport.base_url == telegram.gateway_url
    assert telegram.messages == {int(message_id): "<b>hi again</b>"}


async def test_alerts_fire_once_per_transition(
    core: RunningCore, db: asyncpg.Connection, telegram: FakeTelegram, tmp_path: Path
) -> None:
    await db.execute("INSERT INTO devices (id, name, online) VALUES ('nas.ts.net.', 'nas', true)")
    settings = direct_settings(
        core.grpc_addr, telegram, tmp_path / "s.json", telegram_fail_streak=2
    )
    async with telemetry(settings) as svc:
        await svc.run_once()
        await db.execute(
            "UPDATE devices SET online = false, offline_reason = 'no route' "
            "WHERE id = 'nas.ts.net.'"
        )
        await svc.run_once()
        await svc.run_once()
        await db.execute("UPDATE devices SET online = true WHERE id = 'nas.ts.net.'")
        await svc.run_once()
        await svc.run_once()
        for i in range(3):
            await db.execute(
                """INSERT INTO jobs (id, kind, status, error, finished_at)
                   VALUES (gen_random_uuid(), 'openai.chat', 'error', $1, now())""",
                f"HTTP 401 #{i}",
            )
            await svc.run_once()
    alerts = [c.params["text"] for c in telegram.sent()][1:]  # the first is the status message
    assert alerts == [
        "🔴 device <b>nas</b> went offline (no route)",
        "🟢 device <b>nas</b> is back online",
        "❗ <b>openai.chat</b> failed 2 times in a row\n<pre>HTTP 401 #1</pre>",
    ]


async def test_stuck_queue_alert_and_alerts_can_be_turned_off(
    core: RunningCore, grpc_client: CoreClient, telegram: FakeTelegram, tmp_path: Path
) -> None:
    await grpc_client.submit_job("nobody.runs.this", {})
    quiet = direct_settings(
        core.grpc_addr,
        telegram,
        tmp_path / "q.json",
        telegram_alerts=False,
        telegram_stuck_seconds=0.001,
    )
    async with telemetry(quiet) as svc:
        for _ in range(3):
            await svc.run_once()
    assert len(telegram.sent()) == 1  # the status message only

    loud = direct_settings(
        core.grpc_addr, telegram, tmp_path / "l.json", telegram_stuck_seconds=0.001
    )
    async with telemetry(loud) as svc:
        for _ in range(4):
            await svc.run_once()
    stuck = [c for c in telegram.sent() if "queue stuck" in c.params["text"]]
    assert len(stuck) == 1
    assert stuck[0].params["text"].startswith("⏸ queue stuck: 1 queued, nothing running")


async def test_core_down_message_says_so_and_service_keeps_running(
    database_url: str, telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with contextlib.AsyncExitStack() as core_stack:
        core = await core_stack.enter_async_context(start_core(database_url))
        settings = direct_settings(core.grpc_addr, telegram, tmp_path / "s.json")
        async with telemetry(settings) as svc, looping(svc) as task:
            await eventually(lambda: telegram.messages and "<b>Queue</b>" in only_message(telegram))
            await core_stack.aclose()  # core stops
            await eventually(lambda: "core unreachable</b> since" in only_message(telegram))
            assert not task.done()
            assert "last known state" in only_message(telegram)
    assert len(telegram.sent()) == 1


async def test_gateway_passes_telegram_errors_through_as_ours(telegram: FakeTelegram) -> None:
    transport = GatewayTransport(
        telegram.gateway_url, chat_id="1", bot_id="b", timeout=5, compat_url=None
    )
    try:
        message_id = await transport.send("one")
        with pytest.raises(MessageNotModified):
            await transport.edit(message_id, "one")
        telegram.fail_next("editMessageText", 429, "Too Many Requests: retry after 3", 3)
        with pytest.raises(FloodWait) as flood:
            await transport.edit(message_id, "two")
        assert flood.value.retry_after == 3
        telegram.delete(int(message_id))
        with pytest.raises(MessageGone):
            await transport.edit(message_id, "three")
        telegram.gateway_down = True
        with pytest.raises(RouteUnavailable):
            await transport.send("four")
    finally:
        await transport.close()
