"""Who may talk to the bridge: Host and Origin allow-lists (DNS-rebinding protection, as the
MCP spec asks) and an optional bearer token. One ASGI middleware in front of every route."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from serving.cross_site import origin_allowed

log = logging.getLogger(__name__)

# Open without a token, like core's /health, so load balancers and `llm-mcp up` can probe it.
OPEN_PATHS = frozenset({"/health"})


def host_allowed(host: str | None, allowed: Sequence[str]) -> bool:
    """`name` allows the name on any port, `name:*` too, `name:port` that port only."""
    if not host:
        return False
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    for entry in allowed:
        if entry == host or entry == name or (entry.endswith(":*") and entry[:-2] == name):
            return True
    return False


class BridgeGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None,
        allowed_hosts: Sequence[str],
        allowed_origins: Sequence[str],
    ) -> None:
        self.app = app
        self.token = token
        self.allowed_hosts = list(allowed_hosts)
        self.allowed_origins = list(allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal: tuple[int, str, str] | None = None
        if not host_allowed(headers.get("host"), self.allowed_hosts):
            refusal = (421, "host_not_allowed", "Host header is not in MCP_ALLOWED_HOSTS")
        elif not origin_allowed(headers.get("origin"), self.allowed_origins):
            refusal = (403, "origin_not_allowed", "Origin is not in MCP_ALLOWED_ORIGINS")
        elif self.token and scope["path"] not in OPEN_PATHS and not self._token_ok(headers):
            refusal = (401, "unauthorized", "missing or wrong bearer token")
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, code, message = refusal
        log.warning("refused %s %s: %s", scope.get("method"), scope["path"], message)
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        response_headers = [(b"content-type", b"application/json")]
        if status == 401:
            response_headers.append((b"www-authenticate", b"Bearer"))
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": body})

    def _token_ok(self, headers: Headers) -> bool:
        scheme, _, value = headers.get("authorization", "").partition(" ")
        assert self.token is not None
        return scheme.lower() == "bearer" and hmac.compare_digest(
            value.strip().encode(), self.token.encode()
        )
