"""No cross-site submissions: a web page the user visits must not be able to run jobs.

Browsers send a cross-site POST without asking first when its Content-Type is text/plain, a
form or multipart, so a JSON route accepts only JSON bodies (415 otherwise). And a browser
names the page's origin in `Origin`: one outside the allow-list gets 403, while an allowed one
gets a proper CORS preflight and `Access-Control-Allow-Origin`. One ASGI middleware in front of
every route, shared by core and the MCP bridge. The errors it refuses with are the caller's
(`foreign_origin`, `unsupported_media_type`): anything with `http_status`, `code` and `message`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# What a browser may send cross-site from an allowed origin (the preflight's answer).
ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOWED_HEADERS = "authorization, content-type, idempotency-key, last-event-id"
PREFLIGHT_MAX_AGE = "600"
_LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]"})


class Refusal(Protocol):
    """An error this guard answers with (llm-mcp's are `proto.errors.CoreError`s)."""

    http_status: int
    code: str
    message: str


# message -> the error to refuse with.
MakeRefusal = Callable[[str], Any]
# (request path, error) -> the JSON body of the refusal, in the format the caller parses.
ErrorBody = Any


def origin_allowed(origin: str | None, allowed: Sequence[str]) -> bool:
    """No Origin (not a browser) passes; otherwise an exact entry or `scheme://name:*`."""
    if not origin:
        return True
    for entry in allowed:
        if entry == origin:
            return True
        if entry.endswith(":*"):
            base = entry[:-2]
            if origin == base or origin.startswith(base + ":"):
                return True
    return False


def is_json_media_type(content_type: str | None) -> bool:
    """application/json or application/<anything>+json, with any parameters."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _own_loopback_origin(scope: Scope, headers: Headers) -> str | None:
    """The origin of a page this server serves on loopback (its own dashboard). Only on
    loopback: elsewhere a rebound DNS name would make any site look like our own origin."""
    host = headers.get("host", "")
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if name not in _LOOPBACK_NAMES:
        return None
    return f"{scope.get('scheme', 'http')}://{host}"


def _has_body(headers: Headers) -> bool:
    length = headers.get("content-length")
    return "transfer-encoding" in headers or (length is not None and length.strip() != "0")


def default_error_body(_path: str, error: Refusal) -> Any:
    return {"error": {"code": error.code, "message": error.message}}


class CrossSiteGuard:
    """`allowed_origins=None` leaves Origin to another guard (the bridge has its own)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        allowed_origins: Sequence[str] | None,
        foreign_origin: MakeRefusal,
        unsupported_media_type: MakeRefusal,
        error_body: ErrorBody = default_error_body,
    ) -> None:
        self.app = app
        self.foreign_origin = foreign_origin
        self.unsupported_media_type = unsupported_media_type
        self.allowed_origins = None if allowed_origins is None else list(allowed_origins)
        self.error_body = error_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        cross_origin = bool(origin) and origin != _own_loopback_origin(scope, headers)
        if self.allowed_origins is not None and cross_origin:
            if not origin_allowed(origin, self.allowed_origins):
                await self._refuse(
                    scope, send, self.foreign_origin("Origin is not in CORS_ALLOWED_ORIGINS")
                )
                return
            if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
                await self._preflight(send, origin or "")
                return
        if scope["method"] in BODY_METHODS and ("content-type" in headers or _has_body(headers)):
            if not is_json_media_type(headers.get("content-type")):
                await self._refuse(
                    scope,
                    send,
                    self.unsupported_media_type(
                        "this route takes JSON: send the body with Content-Type: application/json"
                    ),
                )
                return
        if self.allowed_origins is None or not cross_origin:
            await self.app(scope, receive, send)
            return

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [
                        *message.get("headers", []),
                        (b"access-control-allow-origin", (origin or "").encode()),
                        (b"vary", b"Origin"),
                    ],
                }
            await send(message)

        await self.app(scope, receive, with_cors)

    async def _preflight(self, send: Send, origin: str) -> None:
        response_headers = [
            (b"access-control-allow-origin", origin.encode()),
            (b"access-control-allow-methods", ALLOWED_METHODS.encode()),
            (b"access-control-allow-headers", ALLOWED_HEADERS.encode()),
            (b"access-control-max-age", PREFLIGHT_MAX_AGE.encode()),
            (b"vary", b"Origin"),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": response_headers})
        await send({"type": "http.response.body", "body": b""})

    async def _refuse(self, scope: Scope, send: Send, error: Refusal) -> None:
        log.warning("refused %s %s: %s", scope.get("method"), scope["path"], error.message)
        body = json.dumps(self.error_body(scope["path"], error)).encode()
        response_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send(
            {
                "type": "http.response.start",
                "status": error.http_status,
                "headers": response_headers,
            }
        )
        await send({"type": "http.response.body", "body": body})
