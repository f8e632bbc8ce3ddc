"""The direct route: Telegram's Bot API through python-telegram-bot.

TELEGRAM_API_BASE_URL points it at a self-hosted Bot API server (or a test's fake).
"""

from __future__ import annotations

import warnings
from datetime import timedelta

import telegram
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.error import TelegramError as PtbError
from telegram.request import HTTPXRequest

from telemetry.log_redaction import hide_in_logs
from telemetry.transport import FloodWait, Rejected, RouteUnavailable, TelegramError, classify


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _translated(exc: PtbError) -> TelegramError:
    # Order matters: BadRequest and TimedOut are NetworkErrors in python-telegram-bot.
    if isinstance(exc, RetryAfter):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return FloodWait(_seconds(exc.retry_after))
    if isinstance(exc, BadRequest):
        return classify(exc.message)
    if isinstance(exc, Forbidden | InvalidToken | TimedOut | NetworkError):
        return RouteUnavailable(f"Bot API: {exc.message}")
    return Rejected(exc.message)


class BotApiTransport:
    name = "bot-api"

    def __init__(self, token: str, *, chat_id: str, base_url: str, timeout: float) -> None:
        hide_in_logs(token)
        request = HTTPXRequest(connect_timeout=timeout, read_timeout=timeout, write_timeout=timeout)
        self._request = request
        self._bot = telegram.Bot(token, base_url=base_url, request=request)
        self._chat_id = chat_id
        self._initialized = False

    async def _ready(self) -> telegram.Bot:
        if not self._initialized:
            try:
                await self._bot.initialize()  # getMe: checks the token once
            except PtbError as exc:
                raise _translated(exc) from exc
            self._initialized = True
        return self._bot

    async def send(self, text: str) -> str:
        bot = await self._ready()
        try:
            message = await bot.send_message(
                self._chat_id,
                text,
                parse_mode=ParseMode.HTML,
                link_preview_options=telegram.LinkPreviewOptions(is_disabled=True),
            )
        except PtbError as exc:
            raise _translated(exc) from exc
        return str(message.message_id)

    async def edit(self, message_id: str, text: str) -> None:
        bot = await self._ready()
        try:
            await bot.edit_message_text(
                text,
                chat_id=self._chat_id,
                message_id=int(message_id),
                parse_mode=ParseMode.HTML,
                link_preview_options=telegram.LinkPreviewOptions(is_disabled=True),
            )
        except ValueError as exc:  # an id from another route that is not a number
            raise classify("Bad Request: message to edit not found") from exc
        except PtbError as exc:
            raise _translated(exc) from exc

    async def close(self) -> None:
        if self._initialized:
            await self._bot.shutdown()
            self._initialized = False
        else:  # Bot.shutdown does nothing before initialize(); the HTTP client exists already
            await self._request.shutdown()
