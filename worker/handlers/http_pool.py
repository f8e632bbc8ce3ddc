"""A keep-alive connection pool for provider calls whose cost per request does not grow with
the number of connections it holds.

httpx's default pool (httpcore's) scans every connection it holds on each request and on each
response's close, asking each idle one whether its socket is readable; with a connection per
job slot that scan was a third of a provider call's CPU. Here each origin keeps a stack of idle
connections: a request takes the most recently used one and checks that one only, and a closed
response puts its connection back. At most `max_connections` requests are in flight at once
(the worker's job slots); more wait for a free one within the pool timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator

import httpcore
import httpx

from serving.tls import client_tls

# (scheme, host, port): httpcore's Origin compares equal but does not hash.
_OriginKey = tuple[bytes, bytes, int]


class _PooledStream:
    """A response body that gives its connection back to the pool once read and closed."""

    def __init__(
        self,
        pool: StackPool,
        key: _OriginKey,
        connection: httpcore.AsyncHTTPConnection,
        stream: object,
    ) -> None:
        self._pool = pool
        self._key = key
        self._connection = connection
        self._stream = stream
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for part in self._stream:  # type: ignore[attr-defined]
            yield part

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self._stream.aclose()  # type: ignore[attr-defined]
        finally:
            self._pool._put_back(self._key, self._connection)


class StackPool:
    """httpcore's request interface over per-origin stacks of idle HTTP/1.1 connections."""

    def __init__(
        self,
        *,
        max_connections: int,
        keepalive_expiry: float | None,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._ssl_context = ssl_context
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: dict[_OriginKey, list[httpcore.AsyncHTTPConnection]] = {}
        self._closing: set[asyncio.Task[None]] = set()

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        if request.url.scheme not in (b"http", b"https"):
            raise httpcore.UnsupportedProtocol(
                f"Request URL has an unsupported protocol '{request.url.scheme.decode()}://'."
            )
        await self._acquire(request)
        origin = request.url.origin
        key = (origin.scheme, origin.host, origin.port)
        try:
            while True:
                connection = self._take_idle(key, origin)
                try:
                    response = await connection.handle_async_request(request)
                except httpcore.ConnectionNotAvailable:
                    continue  # a kept connection went away between the check and the send
                except BaseException:
                    self._discard(connection)
                    raise
                break
        except BaseException:
            self._slots.release()
            raise
        return httpcore.Response(
            status=response.status,
            headers=response.headers,
            content=_PooledStream(self, key, connection, response.stream),  # type: ignore[arg-type]
            extensions=response.extensions,
        )

    async def _acquire(self, request: httpcore.Request) -> None:
        if not self._slots.locked():
            await self._slots.acquire()
            return
        timeout = request.extensions.get("timeout", {}).get("pool")
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout)
        except TimeoutError:
            raise httpcore.PoolTimeout("no free connection within the pool timeout") from None

    def _take_idle(self, key: _OriginKey, origin: httpcore.Origin) -> httpcore.AsyncHTTPConnection:
        """The most recently used live idle connection to `origin`, else a new one."""
        idle = self._idle.get(key)
        while idle:
            connection = idle.pop()
            if connection.is_available() and not connection.has_expired():
                return connection
            self._discard(connection)
        return httpcore.AsyncHTTPConnection(
            origin=origin, ssl_context=self._ssl_context, keepalive_expiry=self._keepalive_expiry
        )

    def _put_back(self, key: _OriginKey, connection: httpcore.AsyncHTTPConnection) -> None:
        self._slots.release()
        if not connection.is_idle():
            self._discard(connection)
            return
        idle = self._idle.setdefault(key, [])
        idle.append(connection)
        if len(idle) > self._max_connections:
            self._discard(idle.pop(0))

    def _discard(self, connection: httpcore.AsyncHTTPConnection) -> None:
        if connection.is_closed():
            return
        task = asyncio.get_running_loop().create_task(connection.aclose())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        connections = [c for idle in self._idle.values() for c in idle]
        self._idle.clear()
        for connection in connections:
            with contextlib.suppress(Exception):
                await connection.aclose()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    async def __aenter__(self) -> StackPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class PooledTransport(httpx.AsyncHTTPTransport):
    """httpx's transport (its request and error mapping) over a StackPool."""

    def __init__(self, *, max_connections: int, keepalive_expiry: float | None = 5.0) -> None:
        # Not super().__init__(): it would build httpcore's pool only to drop it. The parent's
        # methods use nothing but `_pool`.
        self._pool = StackPool(  # type: ignore[assignment]
            max_connections=max_connections,
            keepalive_expiry=keepalive_expiry,
            ssl_context=client_tls(),
        )


def provider_client(
    *,
    timeout: float,
    connect_timeout: float,
    max_connections: int,
    headers: dict[str, str] | None = None,
) -> httpx.AsyncClient:
    """The one long-lived HTTP client of a provider: `max_connections` requests in flight at
    once (the worker's job slots), each kept connection reused."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        headers=headers,
        transport=PooledTransport(max_connections=max_connections),
    )
