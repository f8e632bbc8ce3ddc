"""Serving an ASGI app with uvicorn on a socket already bound, inside the caller's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass
from typing import Any, Literal

import uvicorn


@dataclass
class HttpServer:
    """A started uvicorn server; `stop()` ends it (in-flight requests get the graceful time)."""

    server: uvicorn.Server
    task: asyncio.Task[None]
    port: int

    async def stop(self) -> None:
        self.server.should_exit = True  # stops listening; in-flight requests finish
        with contextlib.suppress(Exception):
            await self.task


async def start_http_server(
    app: Any,
    sock: socket.socket,
    *,
    name: str,
    graceful_seconds: float,
    lifespan: Literal["on", "off"],
) -> HttpServer:
    """Serves `app` on `sock` (see `serving.listen.bind_listener`) and returns once it accepts
    connections. The process's own signal handling stays the caller's. Raises what the server
    raised, or RuntimeError, when it stops during start-up (a failed lifespan, for one)."""
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=graceful_seconds,
        lifespan=lifespan,
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(sockets=[sock]), name=name)
    while not server.started:
        if task.done():
            await task
            raise RuntimeError(f"{name} stopped during start-up")
        await asyncio.sleep(0.01)
    return HttpServer(server, task, sock.getsockname()[1])
