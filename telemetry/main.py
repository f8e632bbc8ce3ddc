"""`llm-mcp telemetry`: builds the route(s) to Telegram and runs the loop until stopped."""

from __future__ import annotations

import asyncio
import logging

from proto.client import CoreClient
from telemetry.alerts import AlertConfig
from telemetry.bot_api import BotApiTransport
from telemetry.gateway import GatewayTransport
from telemetry.message import StatusMessage
from telemetry.service import TelemetryService
from telemetry.settings import COMPAT_GATEWAY_URL, TelemetrySettings
from telemetry.state import StateFile
from telemetry.transport import FallbackTransport, Transport

log = logging.getLogger(__name__)

NOT_CONFIGURED = (
    "Telegram is not configured: set TELEGRAM_USE_MCP=1 (with TELEGRAM_MCP_CHAT_ID) for the "
    "telegram-mcp gateway, or TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID for the Bot API "
    "(with TELEGRAM_MCP_FALLBACK_DIRECT=1 when the gateway is also used)"
)


class NotConfigured(ValueError):
    pass


def build_transport(settings: TelemetrySettings) -> Transport:
    """The gateway, the Bot API, or the gateway with the Bot API as fallback.

    Raises NotConfigured when neither route is configured.
    """
    routes: list[Transport] = []
    if settings.telegram_use_mcp:
        routes.append(
            GatewayTransport(
                settings.gateway_url,
                chat_id=settings.gateway_chat_id or "",
                bot_id=settings.telegram_mcp_bot_id,
                timeout=settings.telegram_request_timeout,
                compat_url=None if settings.gateway_url_explicit else COMPAT_GATEWAY_URL,
            )
        )
    if settings.direct_configured:
        assert settings.telegram_bot_token is not None and settings.telegram_chat_id
        routes.append(
            BotApiTransport(
                settings.telegram_bot_token.get_secret_value(),
                chat_id=settings.telegram_chat_id,
                base_url=settings.telegram_api_base_url,
                timeout=settings.telegram_request_timeout,
            )
        )
    if not routes:
        raise NotConfigured(NOT_CONFIGURED)
    return routes[0] if len(routes) == 1 else FallbackTransport(routes[0], routes[1])


def chat_key(settings: TelemetrySettings) -> str:
    """Names the chat the saved message id belongs to."""
    if settings.telegram_use_mcp:
        return f"mcp:{settings.telegram_mcp_bot_id or ''}:{settings.gateway_chat_id}"
    return f"bot:{settings.telegram_chat_id}"


def build_service(settings: TelemetrySettings, transport: Transport) -> TelemetryService:
    message = StatusMessage(
        transport, StateFile(settings.telegram_state_file), chat=chat_key(settings)
    )
    alerts = (
        AlertConfig(
            stuck_seconds=settings.telegram_stuck_seconds,
            fail_streak=settings.telegram_fail_streak,
            cooldown_seconds=settings.telegram_alert_cooldown,
        )
        if settings.telegram_alerts
        else None
    )
    timeout = max(2.0, min(10.0, settings.telegram_update_interval * 2))
    return TelemetryService(
        connect=lambda: CoreClient(
            settings.core_grpc_addr, token=settings.core_token, timeout=timeout
        ),
        message=message,
        interval=settings.telegram_update_interval,
        alerts=alerts,
    )


async def run_telemetry(settings: TelemetrySettings, stop: asyncio.Event) -> None:
    """Runs until `stop` is set; raises NotConfigured before doing anything when unconfigured."""
    transport = build_transport(settings)
    try:
        service = build_service(settings, transport)
        log.info(
            "telemetry: core %s, Telegram via %s, every %gs",
            settings.core_grpc_addr,
            transport.name,
            settings.telegram_update_interval,
        )
        await service.run(stop)
    finally:
        await transport.close()
