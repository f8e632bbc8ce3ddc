"""What every fake provider shares: a real HTTP server on a loopback address (127.0.0.x) that
records the requests it got, how many it was serving at once, and answers canned errors first.

A fake runs in the test's event loop: `async with serving(fake)` on a free port, or
`await fake.start()` / `await fake.stop()` on a fixed one (a test stops it to refuse
connections, as when the provider dies, and starts it again). HangingServer accepts
connections and never answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse

from serving.http_server import HttpServer, start_http_server


@dataclass
class CannedError:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def bind(host: str, port: int) -> socket.socket:
    """A listening, non-blocking socket on (host, port); port 0 picks a free one."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit it: answers go out at once, as from a real Ollama.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def common_ports(ips: list[str], count: int) -> list[int]:
    """`count` ports free on every one of `ips` (checked by binding, then released)."""
    ports: list[int] = []
    for _ in range(200):
        probe = bind(ips[0], 0)
        port = probe.getsockname()[1]
        held = [probe]
        try:
            for ip in ips[1:]:
                held.append(bind(ip, port))
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
        if port not in ports:
            ports.append(port)
        if len(ports) == count:
            return ports
    raise RuntimeError("no common free port on the loopback aliases")


def closed_port(host: str = "127.0.0.9") -> str:
    """An address on which nothing listens: connecting is refused."""
    sock = socket.socket()
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://{host}:{port}"


def pieces(text: str) -> list[str]:
    """The text in small chunks, as a model streams tokens (whitespace kept with words)."""
    out: list[str] = []
    for word in text.split(" "):
        out.append((" " if out else "") + word)
    return [p for p in out if p]


@dataclass
class FakeServer:
    host: str
    port: int = 0
    requests: list[tuple[str, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    errors: list[CannedError] = field(default_factory=list)
    delay: float = 0.0
    # When set, requests wait for it (a test holds the device busy, then frees it).
    gate: asyncio.Event | None = None
    in_flight: int = 0
    max_in_flight: int = 0
    _server: HttpServer | None = field(default=None, repr=False, compare=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def app(self) -> Starlette:
        raise NotImplementedError

    async def start(self) -> None:
        """Serves on (host, port) in this event loop; port 0 picks a free port."""
        sock = bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        self._server = await start_http_server(
            self.app(), sock, name=type(self).__name__, graceful_seconds=30, lifespan="off"
        )

    async def stop(self) -> None:
        """Stops serving (requests held at the gate are let through first)."""
        if self.gate is not None:
            self.gate.set()
        if self._server is not None:
            await self._server.stop()
        self._server = None

    @contextlib.asynccontextmanager
    async def _serving(self) -> AsyncIterator[None]:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                await self.gate.wait()
            if self.delay:
                await asyncio.sleep(self.delay)  # the fake's own simulated work
            yield
        finally:
            self.in_flight -= 1

    async def _record(self, request: Request) -> dict[str, Any] | JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "invalid JSON"}, status_code=400)
        self.requests.append((request.url.path, body, dict(request.headers)))
        if self.errors:
            canned = self.errors.pop(0)
            return JSONResponse(canned.body, status_code=canned.status, headers=canned.headers)
        return body


F = TypeVar("F", bound=FakeServer)


@contextlib.asynccontextmanager
async def serving(fake: F) -> AsyncIterator[F]:
    """Runs the fake on its host (a free port unless it names one) in this event loop until
    exit."""
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


class HangingServer:
    """Accepts TCP connections on (ip, port) and never answers."""

    def __init__(self, ip: str, port: int) -> None:
        self.ip, self.port = ip, port
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self._writers.append(writer)

        self._server = await asyncio.start_server(hold, sock=bind(self.ip, self.port))

    async def stop(self) -> None:
        for writer in self._writers:
            writer.close()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
