"""A fake Ollama answering at once, in its own process:
`python -m bench.fake_ollama HOST PORT [CHUNK_DELAY_SECONDS]` (delay between streamed chunks)."""

from __future__ import annotations

import asyncio
import sys

from testkit.fakes.ollama import FakeOllama
from testkit.fakes.server import serving


async def _main(host: str, port: int, chunk_delay: float = 0.0) -> None:
    async with serving(FakeOllama(host, port=port, chunk_delay=chunk_delay)):
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    asyncio.run(_main(sys.argv[1], int(sys.argv[2]), delay))
