"""The telemetry loop: snapshot from core → status message, and alerts between snapshots.

`run_once()` is one tick (tests drive it directly); `run()` repeats it every
TELEGRAM_UPDATE_INTERVAL seconds. When core cannot be reached the message says
so, with since when, and the loop keeps going.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from proto.client import CoreClient, CoreClientError
from telemetry.alerts import AlertConfig, AlertState, decide_alerts
from telemetry.message import StatusMessage
from telemetry.render import render_status

log = logging.getLogger(__name__)


class TelemetryService:
    def __init__(
        self,
        *,
        connect: Callable[[], CoreClient],
        message: StatusMessage,
        interval: float,
        alerts: AlertConfig | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`connect` makes a core client; a new one is made after a failure, so a restarted
        core is reached at once rather than after gRPC's reconnect back-off. `alerts=None`
        turns alerts off."""
        self._connect = connect
        self._client: CoreClient | None = None
        self.message = message
        self._interval = interval
        self._alert_config = alerts
        self._clock = clock
        self.snapshot: dict[str, Any] | None = None
        self.alert_state = AlertState()
        self.core_down_since: datetime | None = None
        self.core_error: str | None = None
        self.last_outcome: str | None = None

    async def _fetch(self) -> dict[str, Any]:
        if self._client is None:
            self._client = self._connect()
        try:
            return await self._client.get_status()
        except CoreClientError:
            client, self._client = self._client, None
            with contextlib.suppress(Exception):
                await client.close()
            raise

    async def run_once(self) -> str:
        """One tick; returns what happened to the status message (see StatusMessage.show)."""
        try:
            snapshot = await self._fetch()
        except CoreClientError as exc:
            if self.core_down_since is None:
                self.core_down_since = datetime.now(UTC)
                log.warning("core unreachable: %s", exc.message)
            self.core_error = exc.message
            text = render_status(
                self.snapshot, core_down_since=self.core_down_since, core_error=self.core_error
            )
        else:
            if self.core_down_since is not None:
                log.info("core reachable again")
                self.core_down_since = self.core_error = None
            if self._alert_config is not None:
                alerts, self.alert_state = decide_alerts(
                    self.snapshot,
                    snapshot,
                    self.alert_state,
                    now=self._clock(),
                    config=self._alert_config,
                )
                for alert in alerts:
                    log.info("alert: %s", alert.key)
                    self.message.queue_alert(alert.text)
            self.snapshot = snapshot
            text = render_status(snapshot)
        self.last_outcome = await self.message.show(text)
        await self.message.flush_alerts()
        return self.last_outcome

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    await self.run_once()
                except Exception:  # the service keeps running whatever one tick does
                    log.exception("telemetry tick failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._interval)
        finally:
            await self.close()

    async def close(self) -> None:
        """Closes the core client (the transport belongs to the caller)."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()
