"""A fake Ollama answering at once, in its own process: `python -m bench.fake_ollama HOST PORT`."""

from __future__ import annotations

import asyncio
import sys

from tests.fake_llm import FakeOllama, serving


async def _main(host: str, port: int) -> None:
    async with serving(FakeOllama(host, port=port)):
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], int(sys.argv[2])))
