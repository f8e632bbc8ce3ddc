"""llm-mcp as users run it, for the benchmarks that measure a routed request: a private
Postgres (unless a database URL is given), a fake Ollama, `llm-mcp core` and one 64-slot
`llm-mcp worker`, each in its own process, stopped (and the cluster removed) on exit."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench.common import core_env, stack_env
from bench.overhead_procs import Proc
from llm_mcp.pgcluster import LocalPostgres, free_port

FAKE_HOST = "127.0.0.2"
DEVICE = "bench."


@dataclass
class Stack:
    dsn: str
    core_url: str
    ollama_url: str
    # A connection of the bench's own, for set-up and the jobs' server-side timestamps.
    conn: asyncpg.Connection

    async def add_device(self, model: str, *, max_concurrency: int = 64) -> None:
        """The fake Ollama becomes device `bench.`, serving `model`, `max_concurrency` at once."""
        await self.conn.execute(
            "INSERT INTO devices (id, online, ollama_addr) VALUES ($1, true, $2)",
            DEVICE,
            self.ollama_url,
        )
        await self.conn.execute(
            "INSERT INTO models (name) VALUES ($1) ON CONFLICT DO NOTHING", model
        )
        await self.conn.execute(
            "INSERT INTO device_models (device_id, model) VALUES ($1, $2)", DEVICE, model
        )
        await self.conn.execute(
            "INSERT INTO device_limits (device_id, max_concurrency) VALUES ($1, $2)",
            DEVICE,
            max_concurrency,
        )


@contextlib.asynccontextmanager
async def routed_stack(
    database_url: str | None, *, fake_args: Sequence[str] = ()
) -> AsyncIterator[Stack]:
    """The stack, once core answers and the worker has registered; `fake_args` go to
    `bench.fake_ollama` after its host and port."""
    tmp = Path(tempfile.mkdtemp(prefix="llm-mcp-bench-"))
    cluster = None
    try:
        dsn = database_url
        if dsn is None:
            cluster = LocalPostgres(tmp / "pg", fsync=False, prefer_system=True)
            dsn = cluster.start()
        http_port, grpc_port, fake_port = free_port(), free_port(), free_port(FAKE_HOST)
        ollama = f"http://{FAKE_HOST}:{fake_port}"
        env = stack_env(dsn, http_port=http_port, grpc_port=grpc_port, ollama_url=ollama)
        cli = [sys.executable, "-m", "llm_mcp"]
        core_url = f"http://127.0.0.1:{http_port}"
        fake = [sys.executable, "-m", "bench.fake_ollama", FAKE_HOST, str(fake_port), *fake_args]
        with (
            Proc.start(fake, env, ready="ready"),
            Proc.start([*cli, "core"], core_env(env), health=f"{core_url}/health"),
            Proc.start([*cli, "worker"], env),
        ):
            conn = await asyncpg.connect(dsn)
            try:
                for _ in range(200):
                    if await conn.fetchval("SELECT count(*) FROM workers"):
                        break
                    await asyncio.sleep(0.05)
                yield Stack(dsn=dsn, core_url=core_url, ollama_url=ollama, conn=conn)
            finally:
                await conn.close()
    finally:
        if cluster is not None:
            cluster.stop(mode="immediate")
        shutil.rmtree(tmp, ignore_errors=True)
