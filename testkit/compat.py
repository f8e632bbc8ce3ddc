"""A fleet for the compatible-API tests: core, one device with a fake Ollama, a real worker,
optionally a fake OpenAI cloud."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg

from core.runtime import RunningCore
from testkit.fakes.ollama import FakeOllama
from testkit.fakes.openai import FakeOpenAI
from testkit.fakes.server import serving
from testkit.fleet import add_device
from testkit.support import provider_worker, start_core
from worker.runner import Worker

MODEL = "llama3.2:1b"
EMBED_MODEL = "nomic-embed-text:latest"


@dataclass
class Fleet:
    core: RunningCore
    ollama: FakeOllama
    worker: Worker
    cloud: FakeOpenAI | None = None


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
        w = await stack.enter_async_context(
            provider_worker(core.grpc_addr, worker_concurrency=40, **worker_settings)
        )
        yield Fleet(core=core, ollama=fake, worker=w, cloud=openai)  # type: ignore[arg-type]
