"""The bridge's process: one port with the HTTP bridge and the MCP endpoint (/mcp), or MCP
over stdio. Both talk to core through one CoreClient."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import FastAPI
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings

from mcp_bridge import http_api
from mcp_bridge.errors import install_error_handlers
from mcp_bridge.guard import BridgeGuard
from mcp_bridge.settings import BridgeSettings
from mcp_bridge.tools import build_mcp_server
from proto.client import CoreClient
from proto.errors import ForeignOrigin, UnsupportedMediaType
from serving.body_limit import BodySizeLimit
from serving.cross_site import CrossSiteGuard
from serving.http_server import start_http_server
from serving.listen import bind_listener

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 4 * 1024 * 1024


def create_app(settings: BridgeSettings, core: CoreClient) -> FastAPI:
    """FastAPI app: the HTTP bridge's routes plus the MCP Streamable HTTP endpoint at /mcp."""
    mcp_server = build_mcp_server(core)
    # Host/Origin are checked by BridgeGuard for every route, so the SDK's own check is off.
    mcp_app = mcp_server.streamable_http_app(
        streamable_http_path="/mcp",
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with mcp_server.session_manager.run():
            yield

    app = FastAPI(
        title="llm-mcp MCP bridge",
        version="0.1.0",
        description="An HTTP bridge to core, and an MCP server at /mcp.",
        lifespan=lifespan,
    )
    app.state.core = core
    app.state.mcp = mcp_server
    install_error_handlers(app, core.address)
    app.include_router(http_api.router)
    app.router.routes.extend(mcp_app.routes)
    # The same bound the SDK puts on /mcp; core then applies its own payload limit.
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)
    # JSON bodies only; Origin is BridgeGuard's (MCP_ALLOWED_ORIGINS).
    app.add_middleware(
        CrossSiteGuard,
        allowed_origins=None,
        foreign_origin=ForeignOrigin,
        unsupported_media_type=UnsupportedMediaType,
    )
    app.add_middleware(
        BridgeGuard,
        token=settings.bridge_token,
        allowed_hosts=settings.host_allow_list(),
        allowed_origins=settings.origin_allow_list(),
    )
    return app


@dataclass
class RunningBridge:
    url: str
    mcp_url: str
    app: FastAPI


@contextlib.asynccontextmanager
async def running_bridge(settings: BridgeSettings) -> AsyncIterator[RunningBridge]:
    """Starts the bridge's HTTP server in this event loop; stops it on exit. Port 0 = any."""
    sock = bind_listener(settings.mcp_host, settings.mcp_port, what="the MCP bridge")
    async with CoreClient(
        settings.core_grpc_addr, token=settings.core_token, timeout=settings.mcp_core_timeout
    ) as core:
        app = create_app(settings, core)
        http = await start_http_server(
            app, sock, name="mcp-bridge-http", graceful_seconds=3, lifespan="on"
        )
        try:
            port = http.port
            host = settings.mcp_host if settings.mcp_host not in ("0.0.0.0", "::") else "127.0.0.1"
            url = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
            yield RunningBridge(url=url, mcp_url=f"{url}/mcp", app=app)
        finally:
            await http.stop()


async def serve(settings: BridgeSettings, stop: asyncio.Event) -> None:
    """Runs the HTTP bridge and /mcp until `stop` is set."""
    async with running_bridge(settings) as bridge:
        log.info("MCP bridge listening on %s (MCP at %s)", bridge.url, bridge.mcp_url)
        await stop.wait()
        log.info("MCP bridge stopping")


async def serve_stdio(settings: BridgeSettings) -> None:
    """MCP over stdin/stdout until the client closes it."""
    async with CoreClient(
        settings.core_grpc_addr, token=settings.core_token, timeout=settings.mcp_core_timeout
    ) as core:
        server: MCPServer = build_mcp_server(core)
        await server.run_stdio_async()
