"""How telemetry talks to Telegram: one small interface, the errors it raises, and a fallback.

Two routes implement it: the telegram-mcp gateway (gateway.py) and the Bot API
through python-telegram-bot (bot_api.py). Telegram's own answers are told apart
from a route that does not work, because only the latter moves to the fallback.
"""

from __future__ import annotations

import logging
import re
from typing import Protocol

log = logging.getLogger(__name__)


class TelegramError(Exception):
    """Base of what a route raises."""


class MessageNotModified(TelegramError):
    """The edit would not change the message: the message already shows this text."""


class MessageGone(TelegramError):
    """The message was deleted or can no longer be edited: send a new one."""


class FloodWait(TelegramError):
    """Flood control: no request on this chat for `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"flood control: retry after {retry_after:g}s")
        self.retry_after = retry_after


class Rejected(TelegramError):
    """Telegram refused the request for another reason (bad HTML, chat not found, ...)."""


class RouteUnavailable(TelegramError):
    """The route itself failed (network, gateway down, bad token): try the fallback."""


_GONE = (
    "message to edit not found",
    "message can't be edited",
    "message_id_invalid",
    "message not found",
)
_RETRY = re.compile(r"retry after (\d+(?:\.\d+)?)", re.I)


def classify(description: str, retry_after: float | None = None) -> TelegramError:
    """The error for one of Telegram's error descriptions."""
    text = description.lower()
    if retry_after is not None:
        return FloodWait(float(retry_after))
    if match := _RETRY.search(description):
        return FloodWait(float(match.group(1)))
    if "message is not modified" in text:
        return MessageNotModified(description)
    if any(marker in text for marker in _GONE):
        return MessageGone(description)
    return Rejected(description)


class Transport(Protocol):
    name: str

    async def send(self, text: str) -> str:
        """Sends an HTML message; returns its id."""
        ...

    async def edit(self, message_id: str, text: str) -> None:
        """Replaces the text of message `message_id`."""
        ...

    async def close(self) -> None: ...


class FallbackTransport:
    """`primary` while it works; `fallback` for any call on which the primary route failed."""

    def __init__(self, primary: Transport, fallback: Transport) -> None:
        self.primary = primary
        self.fallback = fallback
        self.name = f"{primary.name}+{fallback.name}"

    async def send(self, text: str) -> str:
        try:
            return await self.primary.send(text)
        except RouteUnavailable as exc:
            log.warning(
                "%s failed (%s); sending through %s", self.primary.name, exc, self.fallback.name
            )
            return await self.fallback.send(text)

    async def edit(self, message_id: str, text: str) -> None:
        try:
            await self.primary.edit(message_id, text)
        except RouteUnavailable as exc:
            log.warning(
                "%s failed (%s); editing through %s", self.primary.name, exc, self.fallback.name
            )
            await self.fallback.edit(message_id, text)

    async def close(self) -> None:
        await self.primary.close()
        await self.fallback.close()
