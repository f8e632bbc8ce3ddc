"""A fleet for the compatible-API tests: core, one device with a fake Ollama, a real worker,
optionally a fake OpenAI cloud."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg

from core.runtime import RunningCore
from tests.fake_llm import FakeOllama, FakeOpenAI, serving
from tests.fleet_setup import add_device
from tests.support import running_worker, start_core
from worker.handlers.registry import Providers
from worker.runner import Worker
from worker.settings import WorkerSettings

MODEL = "llama3.2:1b"
EMBED_MODEL = "nomic-embed-text:latest"


@dataclass
class Fleet:
    core: RunningCore
    ollama: FakeOllama
    worker: Worker
    cloud: FakeOpenAI | None = None


@contextlib.asynccontextmanager
async def worker_for(core: RunningCore, **overrides: Any) -> AsyncIterator[Worker]:
    values: dict[str, Any] = {
        "core_grpc_addr": core.grpc_addr,
        "worker_id": f"w-{uuid.uuid4().hex[:6]}",
        "worker_claim_wait": 5,
        "worker_shutdown_grace": 5,
        "worker_concurrency": 40,
    }
    values.update(overrides)
    providers = Providers(WorkerSettings(**values))
    try:
        async with running_worker(core.grpc_addr, handlers=providers.handlers(), **values) as w:
            yield w
    finally:
        await providers.aclose()


@contextlib.asynccontextmanager
async def compat_fleet(
    database_url: str,
    db: asyncpg.Connection,
    *,
    cloud: bool = False,
    ollama: FakeOllama | None = None,
    **core_overrides: Any,
) -> AsyncIterator[Fleet]:
    fake = ollama or FakeOllama("127.0.0.2", models=[MODEL, EMBED_MODEL])
    overrides = {"retry_base_seconds": 0.05, "retry_cap_seconds": 0.2}
    overrides.update(core_overrides)
    async with (
        start_core(database_url, device_max_concurrency=64, **overrides) as core,
        serving(fake),
        contextlib.AsyncExitStack() as stack,
    ):
        await add_device(db, "gpu1.ts.net.", fake.url, {MODEL: 1.2, EMBED_MODEL: 0.1})
        worker_settings: dict[str, Any] = {}
        if core_overrides.get("api_token"):
            worker_settings["api_token"] = core_overrides["api_token"]
        openai = None
        if cloud:
            openai = await stack.enter_async_context(serving(FakeOpenAI("127.0.0.3")))
            worker_settings.update(openai_api_key="sk-test", openai_base_url=openai.base_url)
        w = await stack.enter_async_context(worker_for(core, **worker_settings))
        yield Fleet(core=core, ollama=fake, worker=w, cloud=openai)  # type: ignore[arg-type]
