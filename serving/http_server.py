"""Serving an ASGI app with uvicorn on a socket already bound, inside the caller's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import uvicorn

log = logging.getLogger(__name__)

DRAIN_POLL_SECONDS = 0.01  # how often a stopping server looks whether its connections are done


class _Server(uvicorn.Server):
    """uvicorn's server, made to stop as soon as it is asked to.

    uvicorn looks at `should_exit` every 0.1 s and then always sleeps another 0.1 s before it
    waits for open connections in 0.1 s steps, so every stop cost 0.2 s or more. Here a stop
    wakes the main loop at once, and the connections are watched every 10 ms. The process's
    own signal handling stays the caller's: uvicorn does not capture signals."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._exit = asyncio.Event()

    def exit(self) -> None:
        self.should_exit = True
        self._exit.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def main_loop(self) -> None:
        counter = 0
        while not await self.on_tick(counter):  # on_tick keeps the Date header current
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._exit.wait(), 0.1)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn's own shutdown, without its fixed 0.1 s pauses.
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()  # idle keep-alive ones close now, busy ones after responding
        try:
            async with asyncio.timeout(self.config.timeout_graceful_shutdown):
                # uvicorn tells no one when its last connection closes: look every 10 ms.
                while self.server_state.connections or self.server_state.tasks:  # noqa: ASYNC110
                    await asyncio.sleep(DRAIN_POLL_SECONDS)
        except TimeoutError:
            log.error(
                "cancelling %d running request(s): the graceful shutdown time is over",
                len(self.server_state.tasks),
            )
            for task in self.server_state.tasks:
                task.cancel(msg="the graceful shutdown time is over")
        for server in self.servers:
            await server.wait_closed()
        await self.lifespan.shutdown()


@dataclass
class HttpServer:
    """A started uvicorn server; `stop()` ends it (in-flight requests get the graceful time)."""

    server: _Server
    task: asyncio.Task[None]
    port: int

    async def stop(self) -> None:
        self.server.exit()  # stops listening; in-flight requests finish
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
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name=name)
    while not server.started:
        if task.done():
            await task
            raise RuntimeError(f"{name} stopped during start-up")
        await asyncio.sleep(0.01)
    return HttpServer(server, task, sock.getsockname()[1])
