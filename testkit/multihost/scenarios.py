"""The multi-host scenarios, run from the `client` host against a started Fleet.

Each one loads both replicas with raw jobs and routed requests, does something to the network
or a process, waits until every acknowledged job has ended, and returns a Row: acknowledged,
finished, lost (must be 0), done twice (must be 0), errors clients saw after retrying, and the
recovery time (seconds from the fault's end until a job through each replica finishes again).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

from testkit.chaos import tally
from testkit.multihost.fleet import CORES, GPUS, LINK_DELAY_MS, Fleet, healthy

TERMINAL = ("done", "error", "canceled")
SLEEP = "chaos.sleep"


@dataclass
class Row:
    scenario: str
    acknowledged: int
    finished: int
    lost: int
    done_twice: int
    client_errors: int
    recovery_seconds: float | None
    seconds: float
    note: str = ""

    def cells(self) -> list[str]:
        recovery = "-" if self.recovery_seconds is None else f"{self.recovery_seconds:.1f}"
        return [
            self.scenario,
            str(self.acknowledged),
            str(self.finished),
            str(self.lost),
            str(self.done_twice),
            str(self.client_errors),
            recovery,
            f"{self.seconds:.1f}",
            self.note,
        ]


HEADERS = ["scenario", "acked", "finished", "lost", "twice", "errors", "recovery s", "s", "note"]


def table(rows: list[Row]) -> str:
    cells = [HEADERS, *(r.cells() for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADERS))]
    lines = [" | ".join(c[i].ljust(widths[i]) for i in range(len(HEADERS))) for c in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


@dataclass
class Client:
    """What a careful client does: round robin over the replicas; on a refused connection, a
    timeout or a 5xx it retries on the next one (raw jobs keep their Idempotency-Key, so a retry
    never makes a second job). Errors counts requests that failed even so."""

    fleet: Fleet
    http: httpx.AsyncClient
    deadline: float = 30.0
    acknowledged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    retries: int = 0
    # What made the client retry, by kind ("503 database_unavailable", "ConnectError", ...).
    problems: Counter[str] = field(default_factory=Counter)
    _turn: int = 0
    _last_id: dict[str, str] = field(default_factory=dict)

    async def _post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
        give_up = time.monotonic() + self.deadline
        self._turn += 1
        attempt = 0
        while True:
            url = self.fleet.urls[(self._turn + attempt) % len(CORES)]
            try:
                answer = await self.http.post(f"{url}{path}", json=body, headers=headers)
                if answer.status_code < 500:
                    answer.raise_for_status()
                    return answer.json()
                problem = f"{answer.status_code} {_error_code(answer)}"
            except httpx.TransportError as exc:
                problem = type(exc).__name__
            self.problems[problem] += 1
            if time.monotonic() > give_up:
                self.errors.append(problem)
                return None
            attempt += 1
            self.retries += 1
            await asyncio.sleep(min(0.05 * attempt, 0.5))

    async def job(self, seconds: float, **extra: Any) -> str | None:
        key = uuid.uuid4().hex
        body = {"kind": SLEEP, "payload": {"seconds": seconds, **extra}, "max_attempts": 10}
        answer = await self._post("/v1/jobs", body, {"idempotency-key": key})
        if answer is None:
            return None
        self.acknowledged.append(answer["job_id"])
        return answer["job_id"]

    async def routed(self, prompt: str) -> str | None:
        body = {"task": "generate", "provider": "ollama", "prompt": prompt}
        answer = await self._post("/v1/llm/request", body, {})
        if answer is None:
            return None
        self.acknowledged.append(answer["job_id"])
        return answer["job_id"]

    async def load(self, jobs: int, routed: int, seconds: float) -> None:
        await asyncio.gather(
            *(self.job(seconds, i=i) for i in range(jobs)),
            *(self.routed(f"prompt {i}") for i in range(routed)),
        )

    async def follow(self, job_id: str, *, first: str) -> list[str]:
        """An SSE client: starts on `first`; when the stream ends early, or its replica says it
        is not healthy, resumes on the other replica with Last-Event-ID."""
        urls = [first, *(u for u in self.fleet.urls if u != first)]
        seen: list[str] = []
        last = "0"
        give_up = time.monotonic() + self.deadline * 2
        turn = 0
        while time.monotonic() < give_up:
            url = urls[turn % len(urls)]
            turn += 1
            watch = asyncio.create_task(self._unhealthy(url))
            stream = asyncio.create_task(self._stream(url, job_id, last, seen))
            await asyncio.wait([watch, stream], return_when=asyncio.FIRST_COMPLETED)
            watch.cancel()
            stream.cancel()
            await asyncio.gather(watch, stream, return_exceptions=True)
            if seen and seen[-1] in TERMINAL:
                return seen
            last = self._last_id.get(job_id, last)
            await asyncio.sleep(0.1)
        self.errors.append(f"stream of {job_id} never ended: {seen}")
        return seen

    async def _stream(self, url: str, job_id: str, last: str, seen: list[str]) -> None:
        headers = {"last-event-id": last}
        async with self.http.stream(
            "GET", f"{url}/v1/jobs/{job_id}/stream", headers=headers, timeout=None
        ) as response:
            if response.status_code != 200:
                await asyncio.sleep(0.2)
                return
            event = ""
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line.partition(":")[2].strip()
                elif line.startswith("id:"):
                    self._last_id[job_id] = line.partition(":")[2].strip()
                elif line.startswith("data:") and event and event != "job":
                    seen.append(event)
                    if event in TERMINAL:
                        return

    async def _unhealthy(self, url: str) -> None:
        """Returns once the replica's /health fails twice in a row."""
        misses = 0
        while misses < 2:
            await asyncio.sleep(0.5)
            try:
                ok = (await self.http.get(f"{url}/health", timeout=1)).status_code == 200
            except httpx.HTTPError:
                ok = False
            misses = 0 if ok else misses + 1


def _error_code(answer: httpx.Response) -> str:
    with contextlib.suppress(ValueError, KeyError, TypeError):
        return str(answer.json()["error"]["code"])
    return answer.text[:60]


def retried(client: Client) -> str:
    """What clients retried on, most frequent first ("none" when nothing failed)."""
    seen = client.problems.most_common(3)
    return ", ".join(f"{problem} x{n}" for problem, n in seen) or "no retries"


async def connect(fleet: Fleet) -> asyncpg.Connection:
    return await asyncpg.connect(fleet.dsn, timeout=5)


async def wait_ended(fleet: Fleet, ids: list[str], within: float) -> None:
    """Polls the database until every job in `ids` is done, error or canceled."""
    give_up = time.monotonic() + within
    while time.monotonic() < give_up:
        with contextlib.suppress(OSError, asyncpg.PostgresError, asyncio.TimeoutError):
            conn = await connect(fleet)
            try:
                left = await conn.fetchval(
                    "SELECT count(*) FROM jobs WHERE id = ANY($1::uuid[]) "
                    "AND status NOT IN ('done', 'error', 'canceled')",
                    ids,
                )
            finally:
                await conn.close()
            if left == 0:
                return
        await asyncio.sleep(0.2)
    raise AssertionError(f"jobs still unfinished after {within}s")


async def probe(client: Client, within: float = 60) -> float:
    """Seconds until one job submitted through each replica (directly) has finished."""
    started = time.monotonic()
    ids = []
    for url in client.fleet.urls:
        give_up = time.monotonic() + within
        while True:
            with contextlib.suppress(httpx.HTTPError):
                answer = await client.http.post(
                    f"{url}/v1/jobs", json={"kind": "echo", "payload": {"probe": True}}
                )
                if answer.status_code == 201:
                    ids.append(answer.json()["job_id"])
                    break
            if time.monotonic() > give_up:
                raise AssertionError(f"{url} takes no job {within}s after the fault")
            await asyncio.sleep(0.1)
    await wait_ended(client.fleet, ids, within)
    return time.monotonic() - started


async def result(
    name: str, client: Client, started: float, recovery: float | None, note: str = ""
) -> Row:
    await wait_ended(client.fleet, client.acknowledged, 90)
    conn = await connect(client.fleet)
    try:
        counted = await tally(conn, client.acknowledged)
    finally:
        await conn.close()
    return Row(
        scenario=name,
        acknowledged=counted.acknowledged,
        finished=counted.done,
        lost=counted.lost + counted.unfinished + counted.error,
        done_twice=counted.completed_twice,
        client_errors=len(client.errors),
        recovery_seconds=recovery,
        seconds=time.monotonic() - started,
        note=note,
    )


async def lease_refusals(client: Client) -> float:
    """llm_mcp_lease_refusals_total summed over the replicas that answer."""
    total = 0.0
    for url in client.fleet.urls:
        with contextlib.suppress(httpx.HTTPError):
            text = (await client.http.get(f"{url}/metrics", timeout=2)).text
            for line in text.splitlines():
                if line.startswith("llm_mcp_lease_refusals_total "):
                    total += float(line.split()[1])
    return total


async def until(check: Callable[[], Awaitable[Any]], within: float, what: str) -> Any:
    give_up = time.monotonic() + within
    while time.monotonic() < give_up:
        with contextlib.suppress(OSError, asyncpg.PostgresError, httpx.HTTPError):
            if value := await check():
                return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: not within {within}s")


async def running_on(fleet: Fleet, worker: str) -> list[str]:
    conn = await connect(fleet)
    try:
        rows = await conn.fetch(
            "SELECT id::text FROM jobs WHERE status = 'running' AND worker_id = $1", worker
        )
    finally:
        await conn.close()
    return [r["id"] for r in rows]


# -- the scenarios -------------------------------------------------------------------------


@dataclass
class Sizes:
    jobs: int = 8
    routed: int = 4
    job_seconds: float = 0.2


async def steady(fleet: Fleet, client: Client, sizes: Sizes) -> Row:
    started = time.monotonic()
    await client.load(sizes.jobs, sizes.routed, sizes.job_seconds)
    row = await result("steady load", client, started, None)
    row.note = f"{row.finished / row.seconds:.1f} jobs/s"
    return row


async def worker_cut(fleet: Fleet, client: Client, sizes: Sizes) -> Row:
    """gpu-1's cable pulled mid-job for longer than its lease, then plugged back."""
    started = time.monotonic()
    lease = fleet.timing.lease_seconds
    # More than one worker can hold, so gpu-1 surely gets some.
    count = max(sizes.jobs, 2 * fleet.timing.worker_concurrency + 2)
    await asyncio.gather(*(client.job(lease * 0.6, i=i) for i in range(count)))
    held = await until(lambda: running_on(fleet, "gpu-1"), 30, "gpu-1 running a job")
    refused_before = await lease_refusals(client)
    fleet.lab.link("gpu-1", up=False)

    async def finished_elsewhere() -> bool:
        conn = await connect(fleet)
        try:
            n = await conn.fetchval(
                "SELECT count(*) FROM jobs WHERE id = ANY($1::uuid[]) AND status = 'done' "
                "AND worker_id <> 'gpu-1'",
                held,
            )
        finally:
            await conn.close()
        return n == len(held)

    await until(finished_elsewhere, lease * 6, "gpu-1's jobs finished by another worker")
    fleet.lab.link("gpu-1", up=True)
    healed = time.monotonic()

    async def refused() -> bool:
        return await lease_refusals(client) > refused_before

    await until(refused, 60, "gpu-1's late report refused")
    recovery = time.monotonic() - healed
    await probe(client)
    return await result(
        "gpu-1 cut past its lease",
        client,
        started,
        recovery,
        f"{len(held)} fenced, late report refused",
    )


async def lossy_links(fleet: Fleet, client: Client, sizes: Sizes) -> Row:
    """200 ms each way and 5% packet loss between the workers and everything else."""
    started = time.monotonic()
    missing = [fleet.lab.impair(gpu, delay_ms=LINK_DELAY_MS, loss_percent=5) for gpu in GPUS]
    how = "tc netem"
    if any(missing):
        fleet.delay_workers(on=True)
        how = f"loss by nftables, delay by relay: {missing[0]}"
    try:
        await client.load(sizes.jobs, sizes.routed, sizes.job_seconds)
        row = await result("200 ms + 5% loss on workers", client, started, None)
    finally:
        fleet.delay_workers(on=False)
        for gpu in GPUS:
            fleet.lab.clear_impairment(gpu)
    row.note = f"{row.finished / row.seconds:.1f} jobs/s; {how}"
    return row


async def core_cut_from_db(fleet: Fleet, client: Client, sizes: Sizes) -> Row:
    """core-a loses Postgres: its clients get errors and move; its SSE clients resume on core-b."""
    started = time.monotonic()
    core_a = fleet.url("core-a")
    followed = [await client.job(2.0, followed=i) for i in range(2)]
    streams = [
        asyncio.create_task(client.follow(job_id, first=core_a)) for job_id in followed if job_id
    ]
    await asyncio.sleep(0.5)  # the streams are open on core-a (they resume anyway)
    fleet.lab.partition("core-a", "db", cut=True)
    try:
        await client.load(sizes.jobs, sizes.routed, sizes.job_seconds)
        seen = await asyncio.gather(*streams)
    finally:
        fleet.lab.partition("core-a", "db", cut=False)
    healed = time.monotonic()
    await healthy(client.http, core_a)
    recovery = time.monotonic() - healed
    ended = sum(1 for s in seen if s and s[-1] == "done")
    return await result(
        "core-a cut from db",
        client,
        started,
        recovery,
        f"{ended}/{len(streams)} SSE clients saw done; retried: {retried(client)}",
    )


async def _steady(client: Client, sizes: Sizes, stop: asyncio.Event) -> None:
    """A raw job and a routed request at a time, back to back, until `stop`."""
    i = 0
    while not stop.is_set():
        i += 1
        await asyncio.gather(client.job(sizes.job_seconds, i=i), client.routed(f"p{i}"))


async def db_restart(fleet: Fleet, client: Client, sizes: Sizes) -> Row:
    """Postgres stopped (fast: every connection closed) and started again under load."""
    started = time.monotonic()
    stop = asyncio.Event()
    load = asyncio.create_task(_steady(client, sizes, stop))
    await asyncio.sleep(0.5)
    await asyncio.to_thread(fleet.stop_db)
    down = time.monotonic()
    await asyncio.sleep(1.0)  # an outage clients notice
    await asyncio.to_thread(fleet.start_db)
    outage = time.monotonic() - down
    recovery = await probe(client)
    stop.set()
    await load
    return await result(
        "db restart",
        client,
        started,
        recovery,
        f"db down {outage:.1f}s; retried: {retried(client)}",
    )


async def rolling_restart(fleet: Fleet, client: Client, sizes: Sizes) -> Row:
    """Each replica in turn: SIGTERM, wait for it to exit, start it, wait until healthy."""
    started = time.monotonic()
    stop = asyncio.Event()
    load = asyncio.create_task(_steady(client, sizes, stop))
    follows = []
    exits = []
    for core in CORES:
        job_id = await client.job(1.5, followed=core)
        if job_id:
            follows.append(asyncio.create_task(client.follow(job_id, first=fleet.url(core))))
        await asyncio.sleep(0.3)
        exits.append(await asyncio.to_thread(fleet.stop_core, core))
        fleet.start_core(core)
        await healthy(client.http, fleet.url(core))
    stop.set()
    await load
    seen = await asyncio.gather(*follows)
    rollout = time.monotonic() - started
    ended = sum(1 for s in seen if s and s[-1] == "done")
    note = (
        f"replicas exited in {', '.join(f'{e:.1f}' for e in exits)} s; "
        f"{ended}/{len(follows)} SSE clients saw done; retried: {retried(client)}"
    )
    return await result("rolling restart of core", client, started, rollout, note)


def as_json(rows: list[Row]) -> str:
    return json.dumps([r.__dict__ for r in rows], indent=2)
