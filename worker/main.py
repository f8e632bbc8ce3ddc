"""`llm-mcp worker`: runs one worker until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal

from proto.client import CoreClient
from worker.handlers.registry import Providers, select_handlers
from worker.runner import Worker
from worker.settings import WorkerSettings


async def run_worker(settings: WorkerSettings, stop: asyncio.Event) -> Worker:
    providers = Providers(settings)
    try:
        handlers = select_handlers(providers.handlers(), settings.worker_kinds)
        async with CoreClient(settings.core_grpc_addr, token=settings.token) as client:
            worker = Worker(settings, client, handlers)
            await worker.run(stop)
            return worker
    finally:
        await providers.aclose()


def main(settings: WorkerSettings) -> None:
    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop)

    asyncio.run(_main())
