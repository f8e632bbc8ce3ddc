"""The providers' HTTP client: httpx's interface (requests, streams, errors) over aiohttp's
connection pool and HTTP/1.1 parser.

A provider call through httpx's own stack (httpcore, h11, anyio) cost the worker 0.8 to 1.0 ms
of CPU, and 0.5 to 0.7 ms through this one: aiohttp does the same wire work in C, with
keep-alive connections taken from a per-host pool in constant time. Handlers keep using httpx:
this module is the only place that knows aiohttp is underneath. At most `max_connections`
requests are in flight at once (the worker's job slots); more wait for a free one within
httpx's pool timeout. aiohttp's failures become the httpx errors they are, so that a refused or
timed-out connection (the device is down) stays apart from a connection that broke after it was
made (the request failed).

A kept connection the server closed while idle (a restart of Ollama, say) can be taken for a
request just before its close is noticed: a request that fails so on a kept connection, before
any answer came, goes out once more on a new connection, as httpx's own pool does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace

import aiohttp
import httpx

from serving.tls import client_tls

# Kept connections are closed after this long idle: before the 5 s keep-alive of common
# servers (uvicorn's, for one) ends, so a request never goes out on a connection the server
# is closing.
KEEPALIVE_SECONDS = 4.0


@contextlib.contextmanager
def _as_httpx_errors(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except aiohttp.ConnectionTimeoutError as exc:
        raise httpx.ConnectTimeout(str(exc) or "connect timed out", request=request) from exc
    except aiohttp.ClientConnectorError as exc:  # refused, no route, DNS, TLS handshake
        raise httpx.ConnectError(str(exc), request=request) from exc
    except aiohttp.ServerTimeoutError as exc:
        raise httpx.ReadTimeout(str(exc) or "read timed out", request=request) from exc
    except aiohttp.ServerDisconnectedError as exc:
        raise httpx.RemoteProtocolError(str(exc), request=request) from exc
    except (aiohttp.ClientPayloadError, aiohttp.ClientResponseError) as exc:
        raise httpx.RemoteProtocolError(str(exc), request=request) from exc
    except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError) as exc:
        raise httpx.UnsupportedProtocol(str(exc), request=request) from exc
    except aiohttp.ClientError as exc:  # a broken connection, after it was made
        raise httpx.ReadError(f"{type(exc).__name__}: {exc}", request=request) from exc


class _Body(httpx.AsyncByteStream):
    """A response body read as it arrives; closing it frees the request's slot and gives its
    connection back to the pool (or drops it, when the body was not read to its end).

    httpx binds a response's stream to the response (response -> stream -> response): a
    cycle that only the garbage collector frees, with both responses, their headers and
    aiohttp's tracing hanging off it, about 45 objects per call. Closing the body unbinds it,
    so a finished response is freed at once."""

    def __init__(
        self, response: aiohttp.ClientResponse, request: httpx.Request, release: asyncio.Semaphore
    ) -> None:
        self._response = response
        self._request = request
        self._release = release
        self._closed = False
        self.owner: httpx.Response | None = None  # set once the response exists

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors(self._request):
            async for part in self._response.content.iter_any():
                yield part

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._response.release()
        self._release.release()
        if self.owner is not None:
            # Read to its end or closed: nothing reads the stream again (httpx raises
            # StreamConsumed / StreamClosed first), so the cycle through it can go.
            self.owner.stream = _CLOSED
            self.owner = None


_CLOSED = httpx.ByteStream(b"")


class _Attempt:
    """What aiohttp's tracing saw of one attempt: whether it went out on a kept connection."""

    __slots__ = ("reused",)

    def __init__(self) -> None:
        self.reused = False


async def _on_reuse(
    _session: aiohttp.ClientSession,
    context: SimpleNamespace,
    _params: aiohttp.TraceConnectionReuseconnParams,
) -> None:
    context.trace_request_ctx.reused = True


class AiohttpTransport(httpx.AsyncBaseTransport):
    """httpx's transport interface over one aiohttp session (made on first use, in the loop
    that uses it)."""

    def __init__(self, *, max_connections: int) -> None:
        self._slots = asyncio.Semaphore(max_connections)
        self._session: aiohttp.ClientSession | None = None

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=0,  # the slots above bound the requests in flight
                keepalive_timeout=KEEPALIVE_SECONDS,
                ssl=client_tls(),
            )
            tracing = aiohttp.TraceConfig()
            tracing.on_connection_reuseconn.append(_on_reuse)
            # No cookies kept between requests of different jobs; httpx decodes the body.
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                trace_configs=[tracing],
            )
        return self._session

    async def _acquire(self, request: httpx.Request) -> None:
        if not self._slots.locked():
            await self._slots.acquire()
            return
        timeout = request.extensions.get("timeout", {}).get("pool")
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout)
        except TimeoutError:
            raise httpx.PoolTimeout(
                "no free connection within the pool timeout", request=request
            ) from None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(
                f"Request URL has an unsupported protocol '{request.url.scheme}://'.",
                request=request,
            )
        await self._acquire(request)
        try:
            with _as_httpx_errors(request):
                response = await self._send(request, await request.aread())
        except BaseException:
            self._slots.release()
            raise
        extensions = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode()
        body = _Body(response, request, self._slots)
        body.owner = httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=body,
            extensions=extensions,
        )
        return body.owner

    async def _send(self, request: httpx.Request, body: bytes) -> aiohttp.ClientResponse:
        timeout = request.extensions.get("timeout", {})
        limits = aiohttp.ClientTimeout(
            total=None, sock_connect=timeout.get("connect"), sock_read=timeout.get("read")
        )
        while True:
            attempt = _Attempt()
            try:
                return await self._session_now().request(
                    request.method,
                    str(request.url),
                    headers=request.headers.multi_items(),
                    data=body or None,
                    allow_redirects=False,
                    compress=None,
                    timeout=limits,
                    trace_request_ctx=attempt,
                )
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
                stale = attempt.reused and not isinstance(exc, aiohttp.ClientConnectorError)
                if not stale:
                    raise

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


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
        transport=AiohttpTransport(max_connections=max_connections),
    )
