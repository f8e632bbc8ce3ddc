"""A fake Telegram Bot API and a fake telegram-mcp gateway: real HTTP servers on 127.0.0.1.

The Bot API part speaks the real wire format (POST /bot<token>/<method>, form or
JSON parameters, {"ok": ..., "result"/"description"/"parameters"} answers) with
Telegram's real error answers. The gateway shares the same chat, so a test can
see the message whichever route wrote it, and answers Telegram errors as HTTP
502 with `detail`, as telegram-mcp does.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from serving.http_server import start_http_server
from testkit.fakes.server import bind

TOKEN = "123456:TEST-token"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
NOT_FOUND = "Bad Request: message to edit not found"


@dataclass
class Call:
    route: str  # "bot" or "gateway"
    method: str  # sendMessage, editMessageText, getMe
    params: dict[str, Any]
    at: float
    status: int = 200


@dataclass
class FakeTelegram:
    """One chat's messages and every request made, with errors a test can queue."""

    messages: dict[int, str] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    next_id: int = 100
    injected: deque[tuple[str, int, str, int | None]] = field(default_factory=deque)
    gateway_down: bool = False
    bot_url: str = ""
    gateway_url: str = ""

    def fail_next(self, method: str, status: int, description: str, retry_after: int | None = None):
        """The next `method` call answers this error instead of running."""
        self.injected.append((method, status, description, retry_after))

    def delete(self, message_id: int) -> None:
        self.messages.pop(message_id, None)

    def sent(self, route: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == "sendMessage" and route in (None, c.route)]

    def edits(self) -> list[Call]:
        return [c for c in self.calls if c.method == "editMessageText"]

    # -- Telegram semantics, shared by both routes -------------------------------------

    def _injected(self, method: str) -> tuple[int, str, int | None] | None:
        for item in list(self.injected):
            if item[0] == method:
                self.injected.remove(item)
                return item[1], item[2], item[3]
        return None

    def run(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """(HTTP status, Bot API answer) of one method call."""
        if injected := self._injected(method):
            status, description, retry_after = injected
            body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
            if retry_after is not None:
                body["parameters"] = {"retry_after": retry_after}
            return status, body
        if method == "getMe":
            user = {"id": 1, "is_bot": True, "first_name": "Fake", "username": "fake_bot"}
            return 200, {"ok": True, "result": user}
        text = str(params.get("text", ""))
        if not text:
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: message text is empty",
            }
        if method == "sendMessage":
            self.next_id += 1
            self.messages[self.next_id] = text
            return 200, {"ok": True, "result": self._message(self.next_id, params)}
        if method == "editMessageText":
            message_id = int(params.get("message_id", 0))
            if message_id not in self.messages:
                return 400, {"ok": False, "error_code": 400, "description": NOT_FOUND}
            if self.messages[message_id] == text:
                return 400, {"ok": False, "error_code": 400, "description": NOT_MODIFIED}
            self.messages[message_id] = text
            return 200, {"ok": True, "result": self._message(message_id, params)}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}

    @staticmethod
    def _message(message_id: int, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": int(params.get("chat_id") or 42), "type": "private"},
            "text": params.get("text", ""),
        }

    # -- HTTP ---------------------------------------------------------------------------

    async def _bot_endpoint(self, request: Request) -> JSONResponse:
        token, method = request.path_params["token"], request.path_params["method"]
        raw = await request.body()
        if request.headers.get("content-type", "").startswith("application/json"):
            params = json.loads(raw or b"{}")
        else:
            params = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        call = Call("bot", method, params, time.monotonic())
        self.calls.append(call)
        if token != TOKEN:
            call.status = 401
            body = {"ok": False, "error_code": 401, "description": "Unauthorized"}
            return JSONResponse(body, status_code=401)
        call.status, body = self.run(method, params)
        return JSONResponse(body, status_code=call.status)

    async def _gateway_endpoint(self, request: Request) -> JSONResponse:
        body = await request.json()
        if "message_id" in request.path_params:
            method = "editMessageText"
            params = {**body, "message_id": request.path_params["message_id"]}
        else:
            method, params = "sendMessage", body
        call = Call("gateway", method, params, time.monotonic())
        self.calls.append(call)
        if self.gateway_down:
            call.status = 503
            return JSONResponse({"detail": "telegram bot not ready"}, status_code=503)
        _status, answer = self.run(method, params)
        if not answer["ok"]:
            call.status = 502
            return JSONResponse({"detail": answer["description"]}, status_code=502)
        result = answer["result"]
        return JSONResponse(
            {"ok": True, "message_id": result["message_id"], "chat_id": result["chat"]["id"]}
        )

    def bot_app(self) -> Starlette:
        return Starlette(
            routes=[Route("/bot{token}/{method}", self._bot_endpoint, methods=["GET", "POST"])]
        )

    def gateway_app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/messages/send", self._gateway_endpoint, methods=["POST"]),
                Route("/v1/messages/{message_id}/edit", self._gateway_endpoint, methods=["POST"]),
            ]
        )


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Serves an ASGI app on 127.0.0.1 (a free port) in this event loop; yields its URL."""
    sock = bind("127.0.0.1", 0)
    server = await start_http_server(
        app, sock, name="fake-telegram", graceful_seconds=30, lifespan="off"
    )
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        await server.stop()


@contextlib.asynccontextmanager
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    """A FakeTelegram with both servers running; `bot_url` and `gateway_url` are set."""
    fake = FakeTelegram()
    async with serving(fake.bot_app()) as bot_url, serving(fake.gateway_app()) as gateway_url:
        fake.bot_url, fake.gateway_url = bot_url, gateway_url
        yield fake


def closed_port_url() -> str:
    """A loopback URL nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
