"""Core and workers in this event loop, and waiting for a condition with a deadline."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.runtime import RunningCore, running_core
from core.settings import CoreSettings
from proto.client import CoreClient
from testkit.sse import read_sse as read_sse  # used by the stream tests
from worker.handlers.registry import Providers, default_handlers, select_handlers
from worker.runner import Worker
from worker.settings import WorkerSettings

APT_TIMEOUT = 600  # seconds for each of apt-get update and install before a test skips


def examples(default: int) -> int:
    """How many examples a property-based test runs: `default`, times TEST_DEPTH when set
    (TEST_DEPTH=10 for a deeper run than the everyday one)."""
    return max(1, round(default * float(os.environ.get("TEST_DEPTH", "1"))))


def core_settings(database_url: str, **overrides: Any) -> CoreSettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "http_port": 0,
        "grpc_port": 0,
        "sweep_interval": 3600,  # tests drive the sweeper themselves
        "retention_interval": 3600,
        "db_pool_size": 20,
        "discovery_interval": 0,  # tests run discovery rounds themselves
    }
    values.update(overrides)
    return CoreSettings(**values)


@contextlib.asynccontextmanager
async def start_core(
    database_url: str, *, maintenance: bool = True, **overrides: Any
) -> AsyncIterator[RunningCore]:
    """Core in this event loop; maintenance=False leaves the sweeper/retention to the test."""
    settings = core_settings(database_url, **overrides)
    async with running_core(settings, maintenance=maintenance) as core:
        yield core


@contextlib.asynccontextmanager
async def running_worker(
    grpc_addr: str, *, handlers: dict[str, Any] | None = None, **overrides: Any
) -> AsyncIterator[Worker]:
    """A real worker in this event loop, talking to core over gRPC; stopped on exit."""
    values: dict[str, Any] = {
        "core_grpc_addr": grpc_addr,
        "worker_id": f"test-worker-{uuid.uuid4().hex[:6]}",
        "worker_claim_wait": 5,
        "worker_shutdown_grace": 5,
    }
    values.update(overrides)
    settings = WorkerSettings(**values)
    stop = asyncio.Event()
    async with CoreClient(grpc_addr, token=settings.token) as client:
        available = handlers or default_handlers(settings)
        worker = Worker(settings, client, select_handlers(available, settings.worker_kinds))
        task = asyncio.create_task(worker.run(stop))
        try:
            await asyncio.wait_for(worker.registered.wait(), 10)
            yield worker
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)


@contextlib.asynccontextmanager
async def provider_worker(grpc_addr: str, **overrides: Any) -> AsyncIterator[Worker]:
    """A real worker running every provider kind its settings allow (Ollama, OpenAI,
    OpenRouter), as a deployed worker does; its provider clients are closed on exit."""
    values: dict[str, Any] = {
        "core_grpc_addr": grpc_addr,
        "worker_id": f"w-{uuid.uuid4().hex[:6]}",
        "worker_claim_wait": 5,
        "worker_shutdown_grace": 5,
    }
    values.update(overrides)
    providers = Providers(WorkerSettings(**values))
    try:
        async with running_worker(grpc_addr, handlers=providers.handlers(), **values) as worker:
            yield worker
    finally:
        await providers.aclose()


async def eventually(check: Any, *, within: float = 10.0, interval: float = 0.02) -> Any:
    """Polls `check` (sync or async) until it returns something truthy, for `within` seconds."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + within
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > give_up:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(interval)


async def sql_count(conn: Any, query: str, *args: Any) -> int:
    return int(await conn.fetchval(query, *args))


def apt_tool(binary: str, package: str) -> str:
    """The path of `binary`, installed from Debian's `package` with apt-get when missing.

    For tests marked `external`: skips them, saying why, when the tool cannot be had (no
    apt-get, not root, the install failed or took over APT_TIMEOUT seconds)."""
    if found := shutil.which(binary):
        return found
    missing = f"{binary} is not installed (apt-get install {package})"
    apt = shutil.which("apt-get")
    if apt is None:
        pytest.skip(f"{missing} and apt-get is not available")
    if os.geteuid() != 0:
        pytest.skip(f"{missing} and apt-get needs root")
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    lock = "DPkg::Lock::Timeout=60"  # another apt-get on the machine: wait for it a while
    for args in (
        [apt, "-o", lock, "update", "-q"],
        [apt, "-o", lock, "install", "-y", "-q", "--no-install-recommends", package],
    ):
        try:
            run = subprocess.run(args, capture_output=True, text=True, timeout=APT_TIMEOUT, env=env)
        except subprocess.TimeoutExpired:
            pytest.skip(f"{missing}: `{' '.join(args[3:])}` took over {APT_TIMEOUT} s")
        if run.returncode != 0:
            pytest.skip(f"{missing}: `{' '.join(args[3:])}` failed: {run.stderr[-500:]}")
    if found := shutil.which(binary):
        return found
    pytest.skip(f"{missing}: apt-get installed {package}, yet {binary} is not on PATH")
