"""A real worker process for chaos tests and bench/chaos.py: `python -m testkit.chaos_worker`.

Configured like any worker (CORE_GRPC_ADDR, WORKER_ID, WORKER_LEASE_SECONDS, ...). Runs
`chaos.sleep` (sleeps payload["seconds"], answers {"by": worker id}) besides echo, and appends
"<job id> <worker id>\\n" to $CHAOS_LOG each time a handler runs to its end, so a test can
count how often each job's work finished (a job may run more than once; it may complete once).
With CHAOS_PROVIDERS=1 it also runs every provider kind its settings allow (Ollama at
OLLAMA_BASE_URL), as a deployed worker does.
"""

from __future__ import annotations

import asyncio
import os
import signal

from llm_mcp.logs import setup_logging
from proto.client import CoreClient
from worker.handlers.base import JobContext, Outcome
from worker.handlers.echo import echo
from worker.handlers.registry import Providers
from worker.runner import Worker
from worker.settings import WorkerSettings

SLEEP_KIND = "chaos.sleep"


def _record(job: JobContext) -> None:
    path = os.environ.get("CHAOS_LOG")
    if path:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{job.job_id} {job.worker_id}\n".encode())
        finally:
            os.close(fd)


async def chaos_sleep(job: JobContext) -> Outcome:
    await asyncio.sleep(float(job.payload.get("seconds", 0.1)))
    _record(job)
    return Outcome(result={"by": job.worker_id, "attempt": job.attempt})


async def main() -> None:
    setup_logging("worker")
    settings = WorkerSettings()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    handlers = {SLEEP_KIND: chaos_sleep, "echo": echo}
    providers = Providers(settings) if os.environ.get("CHAOS_PROVIDERS") == "1" else None
    if providers is not None:
        handlers = {**providers.handlers(), **handlers}
    try:
        async with CoreClient(settings.core_grpc_addr, token=settings.token) as client:
            worker = Worker(settings, client, handlers)
            await worker.run(stop)
    finally:
        if providers is not None:
            await providers.aclose()


if __name__ == "__main__":
    asyncio.run(main())
