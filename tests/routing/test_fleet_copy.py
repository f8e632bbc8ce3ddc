"""Routing's copy of the fleet: a change committed to devices, their models or limits is seen
by the very next read (the fleet version moves in the change's transaction), while updates of
running estimates keep the copy; callers that come while a read is in flight share it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from core.db.pool import create_pool
from core.routing.fleet import DefaultModels
from core.routing.service import FleetReader, RoutingConfig
from core.routing.store import RoutingStore
from testkit.fleet import add_device, set_limits, set_stats


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[RoutingStore]:
    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        yield RoutingStore(pool)
    finally:
        await pool.close()


async def read(store: RoutingStore):  # type: ignore[no-untyped-def]
    return await store.load_fleet(live_seconds=90, defaults=DefaultModels(), strict_limits=False)


async def version(db: asyncpg.Connection) -> int:
    return await db.fetchval("SELECT version FROM fleet_version")


async def test_a_committed_change_is_seen_by_the_next_read(
    store: RoutingStore, db: asyncpg.Connection
) -> None:
    assert (await read(store)).devices == ()  # the copy is taken
    await add_device(db, "gpu1.ts.net.", "http://127.0.0.9:11434", {"qwen2.5:7b": 7.6})
    fleet = await read(store)
    assert [d.id for d in fleet.devices] == ["gpu1.ts.net."]
    assert set(fleet.devices[0].models) == {"qwen2.5:7b"}

    await set_limits(db, "gpu1.ts.net.", max_params_b=3.0)
    limits = (await read(store)).limits.for_device("gpu1.ts.net.")
    assert limits is not None and limits.max_params_b == 3.0

    await db.execute("UPDATE devices SET online = false WHERE id = 'gpu1.ts.net.'")
    assert not (await read(store)).devices[0].online


async def test_a_first_estimate_moves_the_version_and_updates_of_it_do_not(
    store: RoutingStore, db: asyncpg.Connection
) -> None:
    await add_device(db, "gpu1.ts.net.", "http://127.0.0.9:11434", {"qwen2.5:7b": 7.6})
    before = await version(db)
    await set_stats(db, "gpu1.ts.net.", "qwen2.5:7b", tps=40.0, latency_ms=200.0)
    assert await version(db) == before + 1
    assert (await read(store)).stats[("gpu1.ts.net.", "qwen2.5:7b")].tps == 40.0

    # A finished job's estimate update (every Ollama job): the copy stands, the version too.
    await store.update_stats([("gpu1.ts.net.", "qwen2.5:7b", 10.0, 50.0)])
    assert await version(db) == before + 1
    assert (await read(store)).stats[("gpu1.ts.net.", "qwen2.5:7b")].tps == 40.0


async def test_running_jobs_are_read_every_time(
    store: RoutingStore, db: asyncpg.Connection
) -> None:
    await add_device(db, "gpu1.ts.net.", "http://127.0.0.9:11434")
    assert (await read(store)).devices[0].running == 0
    await db.execute(
        "INSERT INTO jobs (id, kind, status, device_id, provider, model, worker_id, "
        "lease_token, lease_until) VALUES (gen_random_uuid(), 'ollama.generate', 'running', "
        "'gpu1.ts.net.', 'ollama', 'm', 'w1', gen_random_uuid(), now() + interval '1 minute')"
    )
    assert (await read(store)).devices[0].running == 1


async def test_callers_that_come_while_a_read_is_in_flight_share_it(
    database_url: str, db: asyncpg.Connection
) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=8)
    reader = FleetReader(RoutingStore(pool), RoutingConfig())
    try:
        # The fleet's tables locked: the first read waits in Postgres, in flight.
        async with db.transaction():
            await db.execute("LOCK TABLE fleet_version IN ACCESS EXCLUSIVE MODE")
            first = asyncio.create_task(reader.fleet())
            await until_waiting_on_locks(db, 1)
            rest = [asyncio.create_task(reader.fleet()) for _ in range(10)]
            first.cancel()  # one caller going away does not take the read from the others
            # The callers have asked by now (they ran while this round trip was out).
            assert await waiting_on_locks(db) == 1
        fleets = await asyncio.gather(*rest)
        assert all(fleet is fleets[0] for fleet in fleets)  # one read's answer, not eleven
        assert first.cancelled()

        # A caller that comes once the read is over reads again, and sees what changed.
        await add_device(db, "gpu1.ts.net.", "http://127.0.0.9:11434")
        assert [d.id for d in (await reader.fleet()).devices] == ["gpu1.ts.net."]
    finally:
        await pool.close()


async def waiting_on_locks(db: asyncpg.Connection) -> int:
    return await db.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND datname = current_database()"
    )


async def until_waiting_on_locks(db: asyncpg.Connection, count: int) -> None:
    async with asyncio.timeout(10):
        while await waiting_on_locks(db) < count:
            pass
