"""The providers' HTTP client: kept connections reused, at most N requests in flight, a
connection the server closed while idle replaced, failures mapped to the httpx errors that
tell a device that is down from a request that broke."""

from __future__ import annotations

import asyncio
import gc
import json
import socket
import weakref
from collections.abc import Callable

import httpx
import pytest

from worker.handlers.http_client import provider_client
from worker.handlers.streams import TextParts, read_ollama

BODY = b'{"ok":true}'
# An Ollama /api/chat answer streamed in three NDJSON lines, sent chunked as Ollama does.
STREAMED = [
    {"message": {"role": "assistant", "content": part}, "done": False} for part in ("a", " b")
] + [{"message": {"role": "assistant", "content": ""}, "done": True, "eval_count": 2}]


class TinyServer:
    """An HTTP/1.1 server on 127.0.0.1 that counts connections and requests in flight."""

    def __init__(
        self,
        *,
        close_after: int = 0,
        gate: asyncio.Event | None = None,
        hang_up_midway: bool = False,
    ) -> None:
        self.connections = 0
        self.closed = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.close_after = close_after  # close the socket (while idle) after this many answers
        self.gate = gate
        self.hang_up_midway = hang_up_midway  # close after the headers and half the body
        self.server: asyncio.Server | None = None
        self.changed = asyncio.Event()  # set on every count change

    async def until(self, predicate: Callable[[], bool]) -> None:
        """Waits (5 s at most) until predicate() holds."""
        async with asyncio.timeout(5):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.changed.set()
        answered = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                request_body = await reader.readexactly(length)
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                self.changed.set()
                if self.gate is not None:
                    await self.gate.wait()
                self.in_flight -= 1
                if b'"stream"' in request_body:
                    await self._answer_chunked(writer)
                elif self.hang_up_midway:
                    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{")
                    await writer.drain()
                    break
                else:
                    writer.write(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                        b"content-length: %d\r\n\r\n%s" % (len(BODY), BODY)
                    )
                    await writer.drain()
                answered += 1
                if self.close_after and answered >= self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            self.closed += 1
            self.changed.set()

    @staticmethod
    async def _answer_chunked(writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
        )
        for line in STREAMED:
            data = json.dumps(line).encode() + b"\n"
            writer.write(b"%x\r\n%s\r\n" % (len(data), data))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    async def __aenter__(self) -> TinyServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()


def _client(max_connections: int = 4) -> httpx.AsyncClient:
    return provider_client(timeout=10, connect_timeout=2, max_connections=max_connections)


async def test_sequential_requests_reuse_one_connection() -> None:
    async with TinyServer() as server, _client() as http:
        for _ in range(20):
            answer = await http.post(f"{server.url}/api/chat", json={"a": 1})
            assert answer.json() == {"ok": True}
        async with http.stream("POST", f"{server.url}/api/chat", json={}) as streamed:
            assert await streamed.aread() == BODY
        assert server.connections == 1


async def test_requests_in_flight_are_capped_and_connections_kept() -> None:
    gate = asyncio.Event()
    async with TinyServer(gate=gate) as server, _client(max_connections=3) as http:
        calls = [asyncio.create_task(http.post(f"{server.url}/x", json={})) for _ in range(7)]
        await server.until(lambda: server.in_flight >= 3)
        assert server.in_flight == 3
        gate.set()
        answers = await asyncio.gather(*calls)
        assert all(a.status_code == 200 for a in answers)
        assert server.max_in_flight == 3
        assert server.connections == 3
        for _ in range(6):
            await http.post(f"{server.url}/x", json={})
        assert server.connections == 3


async def test_a_connection_closed_by_the_server_while_idle_is_replaced() -> None:
    async with TinyServer(close_after=1) as server, _client() as http:
        for _ in range(5):
            answer = await http.post(f"{server.url}/x", json={})
            assert answer.status_code == 200
            # The server closes it; the next request must notice, not fail.
            await server.until(lambda: server.closed == server.connections)
        assert server.connections == 5


async def test_a_cancelled_request_frees_its_slot() -> None:
    gate = asyncio.Event()
    async with TinyServer(gate=gate) as server, _client(max_connections=1) as http:
        stuck = asyncio.create_task(http.post(f"{server.url}/x", json={}))
        await server.until(lambda: server.in_flight >= 1)
        stuck.cancel()
        with pytest.raises(asyncio.CancelledError):
            await stuck
        gate.set()
        answer = await http.post(f"{server.url}/x", json={})
        assert answer.status_code == 200


async def test_a_refused_connection_is_httpx_connect_error() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    async with _client(max_connections=1) as http:
        for _ in range(3):  # the failed attempt gives its slot back
            with pytest.raises(httpx.ConnectError):
                await http.post(f"http://127.0.0.1:{port}/x", json={})


async def test_a_full_pool_times_out_as_httpx_pool_timeout() -> None:
    gate = asyncio.Event()
    async with TinyServer(gate=gate) as server:
        http = provider_client(timeout=0.3, connect_timeout=2, max_connections=1)
        async with http:
            stuck = asyncio.create_task(http.post(f"{server.url}/x", json={}, timeout=10))
            await server.until(lambda: server.in_flight >= 1)
            with pytest.raises(httpx.PoolTimeout):
                await http.post(f"{server.url}/x", json={})
            gate.set()
            assert (await stuck).status_code == 200


async def test_streamed_answers_read_to_their_end_keep_their_connection() -> None:
    body = {"model": "llama3.2:1b", "messages": [], "stream": True}
    async with TinyServer() as server, _client() as http:
        for _ in range(5):
            async with http.stream("POST", f"{server.url}/api/chat", json=body) as answer:
                parts = TextParts(None)
                await read_ollama(answer, parts, chat=True)
            assert parts.result()["response"] == "a b"
        assert server.connections == 1


async def test_a_finished_answer_is_freed_without_the_garbage_collector() -> None:
    # A worker makes a provider call per job: one that only the cyclic collector can free
    # leaves dozens of objects a call for it to walk, a tenth of the worker's CPU under load.
    async with TinyServer() as server, _client() as http:
        await http.post(f"{server.url}/warm", json={})
        gc.collect()
        gc.disable()
        try:
            answer = await http.post(f"{server.url}/x", json={})
            assert answer.json() == {"ok": True}
            async with http.stream("POST", f"{server.url}/api/chat", json={"stream": 1}) as s:
                assert b"".join([part async for part in s.aiter_raw()]).count(b"\n") == 3
            with pytest.raises(httpx.StreamConsumed):  # reading it again fails as before
                async for _ in s.aiter_raw():
                    pass
            gone = [weakref.ref(answer), weakref.ref(s), weakref.ref(answer.request)]
            del answer, s
            assert [ref() for ref in gone] == [None, None, None]
        finally:
            gc.enable()


async def test_a_connection_broken_midway_is_a_read_failure_not_an_unreachable_host() -> None:
    async with TinyServer(hang_up_midway=True) as server, _client() as http:
        with pytest.raises(httpx.TransportError) as failed:
            await http.post(f"{server.url}/x", json={})
        assert not isinstance(failed.value, httpx.ConnectError | httpx.ConnectTimeout)
        # The slot came back: the next request goes out.
        with pytest.raises(httpx.TransportError):
            await http.post(f"{server.url}/x", json={})
        assert server.connections == 2


async def test_a_read_timeout_is_httpx_read_timeout() -> None:
    gate = asyncio.Event()
    async with TinyServer(gate=gate) as server, _client() as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post(f"{server.url}/x", json={}, timeout=httpx.Timeout(10, read=0.2))
        gate.set()


async def test_a_connect_timeout_is_httpx_connect_timeout() -> None:
    # A listening socket whose backlog is full: the kernel leaves further connects pending.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):
            filler = socket.socket()
            filler.setblocking(False)
            try:
                filler.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            fillers.append(filler)
        async with _client() as http:
            with pytest.raises((httpx.ConnectTimeout, httpx.ConnectError)) as failed:
                await http.post(
                    f"http://127.0.0.1:{port}/x", json={}, timeout=httpx.Timeout(5, connect=0.2)
                )
            assert isinstance(failed.value, httpx.ConnectTimeout), failed.value
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
