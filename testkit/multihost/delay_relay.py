"""A TCP relay that can hold every chunk back for a while, each way: link latency for kernels
without tc netem. `python -m testkit.multihost.delay_relay DELAY_MS LISTEN_PORT=HOST:PORT ...`
listens on 127.0.0.1; SIGUSR1 turns the delay on, SIGUSR2 off (it starts off).

Order is kept (one queue per direction) and nothing is dropped; only time is added, as on a
long link. A connection to a target that is gone is closed at once, as the target would.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

DELAY = {"on": False, "seconds": 0.2}


async def _carry(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copies reader to writer, each chunk released `DELAY` after it arrived."""
    loop = asyncio.get_running_loop()
    pending: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def release() -> None:
        while True:
            due, data = await pending.get()
            if not data:
                return
            if (wait := due - loop.time()) > 0:
                await asyncio.sleep(wait)  # the link's latency itself
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(release())
    try:
        while data := await reader.read(65536):
            delay = DELAY["seconds"] if DELAY["on"] else 0.0
            await pending.put((loop.time() + delay, data))
        await pending.put((loop.time(), b""))
        await sender
    finally:
        sender.cancel()
        with contextlib.suppress(Exception):
            writer.close()


def _handler(host: str, port: int):  # type: ignore[no-untyped-def]
    async def handle(down_r: asyncio.StreamReader, down_w: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection(host, port)
        except OSError:
            down_w.close()
            return
        await asyncio.gather(_carry(down_r, up_w), _carry(up_r, down_w), return_exceptions=True)

    return handle


async def main(delay_ms: str, *routes: str) -> None:
    DELAY["seconds"] = int(delay_ms) / 1000
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, lambda: DELAY.update(on=True))
    loop.add_signal_handler(signal.SIGUSR2, lambda: DELAY.update(on=False))
    servers = []
    for route in routes:
        listen, _, target = route.partition("=")
        host, _, port = target.rpartition(":")
        servers.append(
            await asyncio.start_server(_handler(host, int(port)), "127.0.0.1", int(listen))
        )
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
