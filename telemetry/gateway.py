"""The telegram-mcp gateway route: POST /v1/messages/send and /v1/messages/{id}/edit.

The gateway answers a Telegram error as HTTP 502 with `detail` (Telegram's
description). When TELEGRAM_MCP_BASE_URL was not set, a connection failure on
the default http://tgapi:8000 is retried once on the old name
http://telegram-api:8000, and that URL is kept if it answers.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import httpx

from serving.tls import client_tls
from telemetry.settings import COMPAT_GATEWAY_URL
from telemetry.transport import (
    FloodWait,
    MessageGone,
    Rejected,
    RouteUnavailable,
    TelegramError,
    classify,
)

log = logging.getLogger(__name__)


def _message_id(body: Any) -> str:
    """The id in a send answer: {message_id}, {id}, or one of them under result/message."""
    if isinstance(body, dict):
        for key in ("message_id", "id"):
            if isinstance(body.get(key), int | str) and body[key] != "":
                return str(body[key])
        for key in ("result", "message", "data"):
            if isinstance(body.get(key), dict):
                return _message_id(body[key])
    raise RouteUnavailable(f"gateway answer has no message id: {str(body)[:200]}")


def _raise_if_not_ok(body: Any) -> None:
    """A 200 answer that still carries a Telegram error ({"ok": false, "description"})."""
    if isinstance(body, dict) and body.get("ok") is False:
        description = str(body.get("description") or body.get("detail") or "gateway error")
        raise classify(description, (body.get("parameters") or {}).get("retry_after"))


def _error_of(response: httpx.Response) -> TelegramError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    detail = body.get("detail") if isinstance(body, dict) else None
    retry_after = None
    if isinstance(detail, dict):
        retry_after = (detail.get("parameters") or {}).get("retry_after")
        detail = detail.get("description") or detail.get("message") or str(detail)
    status = response.status_code
    if status == 502 and detail:  # Telegram's own error, passed through
        return classify(str(detail), retry_after)
    detail = str(detail or response.text[:300] or response.reason_phrase)
    if status == 429:
        header = response.headers.get("retry-after")
        error = classify(detail, retry_after or (float(header) if header else None))
        return error if isinstance(error, FloodWait) else FloodWait(1.0)
    if status == 404:
        return MessageGone(detail)
    if status in (400, 409):
        return Rejected(f"gateway {status}: {detail}")
    # Anything else is the gateway not working for us (down, auth, a 422 on our request
    # shape, a proxy's bare 502): the fallback route may still work.
    return RouteUnavailable(f"gateway {status}: {detail}")


class GatewayTransport:
    name = "telegram-mcp"

    def __init__(
        self,
        base_url: str,
        *,
        chat_id: str,
        bot_id: str | None,
        timeout: float,
        compat_url: str | None = COMPAT_GATEWAY_URL,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._compat_url = compat_url
        self._chat_id = chat_id
        self._bot_id = bot_id
        self._http = httpx.AsyncClient(timeout=timeout, verify=client_tls())

    async def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        try:
            return await self._http.post(self.base_url + path, json=body)
        except httpx.TransportError as exc:
            if self._compat_url is None:
                raise RouteUnavailable(f"gateway {self.base_url}: {exc!r}") from exc
            compat, self._compat_url = self._compat_url, None
            try:
                response = await self._http.post(compat + path, json=body)
            except httpx.TransportError as compat_exc:
                raise RouteUnavailable(
                    f"gateway {self.base_url} and {compat}: {compat_exc!r}"
                ) from compat_exc
            log.warning("telegram-mcp answers on the old URL %s; set TELEGRAM_MCP_BASE_URL", compat)
            self.base_url = compat
            return response

    def _fields(self, text: str) -> dict[str, Any]:
        body: dict[str, Any] = {"text": text, "parse_mode": "HTML"}
        if self._bot_id:
            body["bot_id"] = self._bot_id
        return body

    async def send(self, text: str) -> str:
        response = await self._post(
            "/v1/messages/send", {"chat_id": self._chat_id, **self._fields(text)}
        )
        if response.status_code >= 400:
            raise _error_of(response)
        try:
            body = response.json()
        except ValueError as exc:
            raise RouteUnavailable("gateway answered send without JSON") from exc
        _raise_if_not_ok(body)
        return _message_id(body)

    async def edit(self, message_id: str, text: str) -> None:
        response = await self._post(f"/v1/messages/{message_id}/edit", self._fields(text))
        if response.status_code >= 400:
            raise _error_of(response)
        with contextlib.suppress(ValueError):
            _raise_if_not_ok(response.json())

    async def close(self) -> None:
        await self._http.aclose()
