"""The one status message: sent once, then edited; plus alerts as separate messages.

Rules, in order: an unchanged text is not sent again; "message is not
modified" counts as success; after flood control (RetryAfter) nothing is sent
until the wait is over, and the frames in between are dropped (the next call
carries the newest text); a deleted or uneditable message is replaced by a new
one; the id is saved so a restart keeps editing the same message.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable

from telemetry.state import MessageRef, StateFile
from telemetry.transport import (
    FloodWait,
    MessageGone,
    MessageNotModified,
    Rejected,
    TelegramError,
    Transport,
)

log = logging.getLogger(__name__)

MAX_PENDING_ALERTS = 20


class StatusMessage:
    def __init__(
        self,
        transport: Transport,
        state: StateFile,
        *,
        chat: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._transport = transport
        self._state = state
        self._chat = chat
        self._clock = clock
        self.message_id: str | None = state.load(chat)
        self.shown_text: str | None = None
        self.blocked_until = 0.0
        self._alerts: deque[str] = deque(maxlen=MAX_PENDING_ALERTS)

    @property
    def blocked(self) -> bool:
        return self._clock() < self.blocked_until

    def _flood(self, exc: FloodWait) -> None:
        self.blocked_until = self._clock() + exc.retry_after
        log.warning(
            "Telegram flood control: waiting %.1fs before the next request", exc.retry_after
        )

    async def _send_new(self, text: str) -> None:
        self.message_id = await self._transport.send(text)
        self._state.save(MessageRef(self._chat, self.message_id))

    async def show(self, text: str) -> str:
        """Puts `text` in the status message. Returns what happened: sent, edited, unchanged,
        deferred (flood control; this frame is dropped) or failed (logged; retried next call).
        """
        if text == self.shown_text:
            return "unchanged"
        if self.blocked:
            return "deferred"
        try:
            if self.message_id is None:
                await self._send_new(text)
                outcome = "sent"
            else:
                try:
                    await self._transport.edit(self.message_id, text)
                    outcome = "edited"
                except MessageNotModified:
                    outcome = "unchanged"
                except MessageGone:
                    log.info("status message %s is gone; sending a new one", self.message_id)
                    await self._send_new(text)
                    outcome = "sent"
        except FloodWait as exc:
            self._flood(exc)
            return "deferred"
        except TelegramError as exc:
            log.warning("cannot update the status message: %s", exc)
            return "failed"
        self.shown_text = text
        return outcome

    def queue_alert(self, text: str) -> None:
        self._alerts.append(text)

    async def flush_alerts(self) -> int:
        """Sends queued alerts in order until flood control or a failure; returns how many."""
        sent = 0
        while self._alerts and not self.blocked:
            try:
                await self._transport.send(self._alerts[0])
            except FloodWait as exc:
                self._flood(exc)
                break
            except Rejected as exc:  # would never pass: drop it, keep the others
                log.warning("Telegram refused an alert, dropped: %s", exc)
                self._alerts.popleft()
                continue
            except TelegramError as exc:
                log.warning("cannot send an alert (kept for later): %s", exc)
                break
            self._alerts.popleft()
            sent += 1
        return sent
