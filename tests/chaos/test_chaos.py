"""Bounded chaos: real core and worker processes, faults injected, then the count that matters.

Every scenario ends with: acknowledged jobs lost = 0, jobs completed twice = 0 (job_attempts
outcomes and terminal events), and whatever the fault specifically must not break.
Longer versions with figures: bench/chaos.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from llm_mcp.pgcluster import LocalPostgres
from testkit.chaos import Cluster, CuttableProxy, Proc, Tally, cluster, tally
from testkit.sse import read_sse
from testkit.support import eventually

pytestmark = pytest.mark.slow  # real processes, faults and recoveries: seconds each

TERMINAL = ("done", "error", "canceled")


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="llm-mcp-chaos-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def chaos(workdir: Path, database_url: str) -> Iterator[Cluster]:
    with cluster(workdir, database_url) as c:
        yield c


@pytest.fixture
def private_pg(workdir: Path) -> Iterator[LocalPostgres]:
    """A cluster of this test's own, which it may restart (fsync on: a crash keeps commits)."""
    pg = LocalPostgres(workdir / "pg", prefer_system=True)
    pg.start()
    try:
        yield pg
    finally:
        pg.stop(mode="immediate")


async def healthy(url: str, within: float = 30) -> None:
    async def ok() -> bool:
        try:
            async with httpx.AsyncClient(timeout=2) as http:
                return (await http.get(f"{url}/health")).status_code == 200
        except httpx.HTTPError:
            return False

    await eventually(ok, within=within, interval=0.1)


async def submit(url: str, n: int, seconds: float) -> list[str]:
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        answer = await http.post(
            "/v1/jobs/batch",
            json=[
                {"kind": "chaos.sleep", "payload": {"seconds": seconds, "i": i}} for i in range(n)
            ],
        )
        assert answer.status_code == 201, answer.text
        return [j["job_id"] for j in answer.json()["jobs"]]


async def all_finished(dsn: str, ids: list[str], within: float = 60) -> None:
    async def check() -> bool:
        try:
            conn = await asyncpg.connect(dsn)
        except (OSError, asyncpg.PostgresError):
            return False
        try:
            left = await conn.fetchval(
                "SELECT count(*) FROM jobs WHERE id = ANY($1::uuid[]) "
                "AND status IN ('queued', 'running')",
                ids,
            )
            return left == 0
        finally:
            await conn.close()

    await eventually(check, within=within, interval=0.2)


async def final_tally(dsn: str, ids: list[str]) -> Tally:
    conn = await asyncpg.connect(dsn)
    try:
        return await tally(conn, ids)
    finally:
        await conn.close()


async def running_under(dsn: str, worker_id: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM jobs WHERE status = 'running' AND worker_id = $1", worker_id
        )
    finally:
        await conn.close()


def assert_nothing_lost_or_doubled(t: Tally, ids: list[str]) -> None:
    assert t.lost == 0, t
    assert t.completed_twice == 0, t
    assert t.unfinished == 0, t
    assert t.done == len(ids), t


async def test_sigkill_of_a_worker_mid_job(chaos: Cluster, database_url: str) -> None:
    _, url, grpc_addr = chaos.core("core-1")
    await healthy(url)
    victim = chaos.worker("victim", grpc_addr)
    ids = await submit(url, 12, 1.0)

    async def busy() -> bool:
        return await running_under(database_url, "victim") >= 2

    await eventually(busy, within=30)
    victim.kill()
    chaos.worker("survivor", grpc_addr)
    await all_finished(database_url, ids)
    t = await final_tally(database_url, ids)
    assert_nothing_lost_or_doubled(t, ids)
    assert t.lease_expired_attempts >= 2  # the killed worker's jobs came back after the lease


async def test_sigstop_past_the_lease_is_fenced_off(chaos: Cluster, database_url: str) -> None:
    _, url, grpc_addr = chaos.core("core-1")
    await healthy(url)
    paused = chaos.worker("paused", grpc_addr, WORKER_CONCURRENCY="1")
    [job_id] = await submit(url, 1, 2.0)

    async def claimed() -> bool:
        return await running_under(database_url, "paused") == 1

    await eventually(claimed, within=30)
    paused.stop()
    chaos.worker("other", grpc_addr)
    await all_finished(database_url, [job_id], within=30)
    paused.cont()
    # Back from the pause, its heartbeat or its completion is refused: it drops the job.
    await eventually(lambda: "lease lost" in paused.output(), within=20, interval=0.2)
    async with httpx.AsyncClient(base_url=url) as http:
        job = (await http.get(f"/v1/jobs/{job_id}")).json()
    assert job["status"] == "done" and job["result"]["by"] == "other"
    t = await final_tally(database_url, [job_id])
    assert_nothing_lost_or_doubled(t, [job_id])


async def follow(url: str, job_id: str, seen: dict[str, str]) -> None:
    """Follows a job's SSE stream, reconnecting with Last-Event-ID, until its terminal event."""
    last = "0"
    while True:
        try:
            async with (
                httpx.AsyncClient(timeout=httpx.Timeout(10, read=30)) as http,
                http.stream(
                    "GET", f"{url}/v1/jobs/{job_id}/stream", headers={"last-event-id": last}
                ) as response,
            ):
                if response.status_code != 200:
                    await asyncio.sleep(0.2)
                    continue
                async for frame in read_sse(response):
                    last = frame.get("id", last)
                    if frame.get("event") in TERMINAL:
                        seen[job_id] = frame["event"]
                        return
        except httpx.HTTPError:
            await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def sse_clients(url: str, ids: list[str]) -> AsyncIterator[dict[str, str]]:
    seen: dict[str, str] = {}
    tasks = [asyncio.create_task(follow(url, i, seen)) for i in ids]
    try:
        yield seen
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def core_back(core: Proc, url: str, reconnects: int) -> bool:
    """Core has re-established its LISTEN `reconnects` times (its log says so) and its
    database answers again: it holds its LISTEN and a pool connection."""
    if core.output().count("LISTEN re-established") < reconnects:
        return False
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            health = (await http.get(f"{url}/health")).json()
    except (httpx.HTTPError, ValueError):
        return False
    return health.get("events") == "listening" and health.get("database") == "ok"


async def test_every_core_connection_terminated(chaos: Cluster, database_url: str) -> None:
    core, url, grpc_addr = chaos.core("core-1")
    await healthy(url)
    chaos.worker("w1", grpc_addr)
    ids = await submit(url, 10, 0.5)
    async with sse_clients(url, ids) as seen:
        admin = await asyncpg.connect(database_url)
        try:
            for done in range(3):
                # Each round waits until core is back from the last (its LISTEN and a pool
                # connection): a loaded machine may take longer than any fixed spacing.
                await eventually(lambda n=done: core_back(core, url, n), within=60, interval=0.05)
                killed = await admin.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                assert killed >= 2  # the pool and the LISTEN connection at least
        finally:
            await admin.close()
        await all_finished(database_url, ids)
        await eventually(lambda: len(seen) == len(ids), within=30)
    assert set(seen.values()) == {"done"}
    t = await final_tally(database_url, ids)
    assert_nothing_lost_or_doubled(t, ids)
    await healthy(url)


async def test_postgres_restart_immediate(chaos: Cluster, private_pg: LocalPostgres) -> None:
    admin = await asyncpg.connect(private_pg.dsn)
    await admin.execute("CREATE DATABASE chaos")
    await admin.close()
    dsn = private_pg.dsn_for("chaos")
    chaos.database_url = dsn
    _, url, grpc_addr = chaos.core("core-1")
    await healthy(url)
    chaos.worker("w1", grpc_addr)
    ids = await submit(url, 10, 1.0)
    async with sse_clients(url, ids) as seen:

        async def some_running() -> bool:
            return await running_under(dsn, "w1") >= 1

        await eventually(some_running, within=30)
        # -l: the restarted server must not inherit pg_ctl's captured stdout (it would hang).
        result = private_pg._run(
            "pg_ctl",
            "-D",
            str(private_pg.data_dir),
            "-l",
            str(private_pg.log_file),
            "-m",
            "immediate",
            "-w",
            "-t",
            "60",
            "restart",
        )
        assert result.returncode == 0, result.stderr
        await healthy(url, within=60)  # core recovers without being restarted
        more = await submit(url, 5, 0.2)  # and takes new work
        ids += more
        await all_finished(dsn, ids, within=90)
        await eventually(lambda: len(seen) == len(ids) - len(more), within=30)
    t = await final_tally(dsn, ids)
    assert_nothing_lost_or_doubled(t, ids)


async def test_sigkill_of_one_of_two_core_replicas(chaos: Cluster, database_url: str) -> None:
    doomed, url1, grpc1 = chaos.core("core-1")
    _, url2, grpc2 = chaos.core("core-2")
    await healthy(url1)
    await healthy(url2)
    chaos.worker("on-1", grpc1)
    chaos.worker("on-2", grpc2)
    ids = await submit(url1, 8, 1.0) + await submit(url2, 8, 1.0)

    async def both_busy() -> bool:
        return (
            await running_under(database_url, "on-1") >= 1
            and await running_under(database_url, "on-2") >= 1
        )

    await eventually(both_busy, within=30)
    doomed.kill()
    await all_finished(database_url, ids, within=90)
    t = await final_tally(database_url, ids)
    assert_nothing_lost_or_doubled(t, ids)
    # Each job's work ran to its end at least once; at most twice (a cut-off worker).
    work = chaos.finished_work()
    assert all(work[i] >= 1 for i in ids)


async def test_a_worker_cut_off_from_core_for_a_while(chaos: Cluster, database_url: str) -> None:
    _, url, grpc_addr = chaos.core("core-1")
    await healthy(url)
    host, port = grpc_addr.split(":")
    proxy = CuttableProxy(host, int(port))
    try:
        chaos.worker("cut-off", await proxy.start())
        ids = await submit(url, 8, 1.0)

        async def busy() -> bool:
            return await running_under(database_url, "cut-off") >= 1

        await eventually(busy, within=30)
        proxy.set_cut(True)
        chaos.worker("connected", grpc_addr)

        async def taken_over() -> bool:
            return await running_under(database_url, "cut-off") == 0

        await eventually(taken_over, within=30)  # its leases ran out; the other worker has them
        proxy.set_cut(False)
        await all_finished(database_url, ids)
    finally:
        await proxy.close()
    t = await final_tally(database_url, ids)
    assert_nothing_lost_or_doubled(t, ids)
    assert t.lease_expired_attempts >= 1
