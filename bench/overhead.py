"""What putting llm-mcp in front of an Ollama costs: direct to a fake Ollama, through llm-mcp
(`llm-mcp up` defaults: core + one worker) and, when installed, through a LiteLLM proxy, all
against the same fake, interleaved round by round.

    .venv/bin/python -m bench.overhead [--rounds 3] [--requests 200] [--concurrency 1,8,32,64]
        [--routes chat,ollama,llm] [--stream both|on|off] [--workers 1]
        [--litellm /path/to/venv/bin/litellm]   (or LITELLM_BIN)
    .venv/bin/python -m bench.overhead --statements [--requests 200]

Routes: `chat` POST /v1/chat/completions, `ollama` POST /api/chat, `llm` POST /v1/llm/request
then its SSE stream until done. Streamed answers have 20 chunks. Load mode prints, per round and
cell, req/s, added p50/p99 over direct, time to first token, CPU ms per request of each process
(from /proc/<pid>/stat, children included) and the 1-minute load; then the medians over rounds.
`--statements` counts SQL statements (pg_stat_statements, top level) and NOTIFYs (a LISTEN of
ours) per routed request, named by the queries of the .sql files.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg

from bench.common import percentile
from bench.overhead_clients import MODEL, PROMPT, Call, calls_for
from bench.overhead_procs import (
    Proc,
    cpu_seconds,
    litellm_proxy,
    load_avg,
    name_of,
    named_queries,
    rss_mb,
)
from llm_mcp.pgcluster import LocalPostgres, free_port

FAKE_HOST = "127.0.0.2"
ROUTES = ("chat", "ollama", "llm")


@dataclass
class Cell:
    system: str
    route: str
    stream: bool
    clients: int
    rps: float
    latency: list[float]
    ttft: list[float]
    cpu_ms: dict[str, float] = field(default_factory=dict)  # per request, by process
    load: float = 0.0
    rss: dict[str, float] = field(default_factory=dict)  # MB at the cell's end: core, workers


async def run_clients(call: Callable[[], Awaitable[tuple[float, float]]], clients: int, total: int):  # type: ignore[no-untyped-def]
    results: list[tuple[float, float]] = []
    remaining = iter(range(total))

    async def loop() -> None:
        for _ in remaining:
            results.append(await call())

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(clients)))
    return results, time.perf_counter() - started


async def measure(
    system: str, call: Call, procs: dict[str, Proc], route: str, stream: bool, clients: int, n: int
) -> Cell:
    await run_clients(call, clients, min(n, clients * 2))  # warm-up: connections, caches
    before = {name: cpu_seconds(p) for name, p in procs.items()}
    results, wall = await run_clients(call, clients, n)
    cpu = {name: (cpu_seconds(p) - before[name]) * 1000 / n for name, p in procs.items()}
    return Cell(
        system,
        route,
        stream,
        clients,
        n / wall,
        [total for _, total in results],
        [first for first, _ in results],
        cpu,
        load_avg(),
        {name: rss_mb(p) for name, p in procs.items() if name not in ("pg", "fake")},
    )


def row(cell: Cell, base: Cell | None) -> str:
    p50, p99, t50 = (
        percentile(cell.latency, 50),
        percentile(cell.latency, 99),
        percentile(cell.ttft, 50),
    )
    added = "        -        -        -"
    if base is not None and base is not cell:
        added = (
            f" {p50 - percentile(base.latency, 50):8.2f} {p99 - percentile(base.latency, 99):8.2f}"
            f" {t50 - percentile(base.ttft, 50):8.2f}"
        )
    system_cpu = sum(v for k, v in cell.cpu_ms.items() if k != "fake")
    parts = " ".join(f"{k}={v:.2f}" for k, v in cell.cpu_ms.items())
    rss = " ".join(f"{k}={v:.0f}" for k, v in cell.rss.items())
    return (
        f"{cell.route:6} {'stream' if cell.stream else 'plain':6} {cell.clients:3} "
        f"{cell.system:8} {cell.rps:8.1f} {p50:8.2f} {p99:8.2f} {t50:8.2f}{added} "
        f"{system_cpu:7.2f}  [{parts}]  load {cell.load:.2f}" + (f"  rss MB [{rss}]" if rss else "")
    )


HEADER = (
    "route  mode   cli system       req/s      p50      p99 ttft p50 +p50     +p99     +ttft50 "
    "  cpu ms/req (system; by process)"
)


def median_cell(cells: list[Cell]) -> Cell:
    pick = sorted(cells, key=lambda c: c.rps)[len(cells) // 2]
    return Cell(
        pick.system,
        pick.route,
        pick.stream,
        pick.clients,
        statistics.median(c.rps for c in cells),
        [statistics.median(percentile(c.latency, q) for c in cells) for q in (50, 99)],
        [statistics.median(percentile(c.ttft, 50) for c in cells)],
        {k: statistics.median(c.cpu_ms[k] for c in cells) for k in pick.cpu_ms},
        statistics.median(c.load for c in cells),
        {k: max(c.rss.get(k, 0.0) for c in cells) for k in pick.rss},
    )


def _session() -> aiohttp.ClientSession:
    # Idle connections are dropped before the servers' 5 s keep-alive ends, so a request never
    # goes out on a connection the server is closing.
    connector = aiohttp.TCPConnector(limit=128, keepalive_timeout=2.0)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120))


async def load_mode(
    args: argparse.Namespace, systems: dict[str, tuple[str, dict[str, Proc]]], fake: str
) -> None:
    streams = {"both": (False, True), "on": (True,), "off": (False,)}[args.stream]
    clients_list = [int(c) for c in args.concurrency.split(",")]
    routes = [r for r in args.routes.split(",") if r]
    cells: dict[tuple, list[Cell]] = {}
    broken: set[str] = set()
    async with _session() as http:
        print(HEADER, flush=True)
        for rnd in range(1, args.rounds + 1):
            print(f"-- round {rnd}", flush=True)
            for clients in clients_list:
                for route in routes:
                    for stream in streams:
                        n = max(args.requests, clients * 4)
                        base = None
                        for system, (url, procs) in systems.items():
                            if system in broken:
                                continue
                            call = calls_for(http, system, route, stream, url, fake)
                            if call is None:
                                continue
                            try:
                                cell = await measure(system, call, procs, route, stream, clients, n)
                            except (aiohttp.ClientError, RuntimeError) as exc:
                                print(f"{system}: failed ({exc!r}); left out from here on")
                                broken.add(system)
                                continue
                            base = base or cell
                            cells.setdefault((route, stream, clients, system), []).append(cell)
                            print(row(cell, base), flush=True)
    print(f"\n== medians of {args.rounds} rounds; {os.cpu_count()} cores")
    print(HEADER)
    bases: dict[tuple, Cell] = {}
    for key, group in cells.items():
        cell = median_cell(group)
        base_key = key[:3]
        bases.setdefault(base_key, cell)
        print(row(cell, bases[base_key]))


async def statements_mode(args: argparse.Namespace, url: str, dsn: str) -> None:
    names = named_queries()
    conn = await asyncpg.connect(dsn)
    notified = 0

    def on_notify(*_: object) -> None:
        nonlocal notified
        notified += 1

    await conn.add_listener("llm_mcp_job_events", on_notify)
    print(f"{os.cpu_count()} cores; statements and NOTIFYs per routed request (top level)")
    async with _session() as http:
        for clients in (1, 32):
            for route in ROUTES:
                for stream in (False, True):
                    call = calls_for(http, "llm-mcp", route, stream, url, "")
                    assert call is not None
                    await run_clients(call, clients, clients * 2)
                    await asyncio.sleep(0.5)  # let the warm-up's completions land
                    await conn.execute("SELECT pg_stat_statements_reset()")
                    notified = 0
                    await run_clients(call, clients, args.requests)
                    await asyncio.sleep(0.3)
                    rows = await conn.fetch(
                        "SELECT query, calls, rows FROM pg_stat_statements"
                        " WHERE query NOT ILIKE '%pg_stat_statements%' ORDER BY calls DESC"
                    )
                    total = sum(r["calls"] for r in rows) / args.requests
                    top = ", ".join(
                        f"{name_of(names, r['query'])} {r['calls'] / args.requests:.2f}"
                        + (
                            f" ({r['rows'] / args.requests:.2f} rows)"
                            if name_of(names, r["query"]) == "job_claim"
                            else ""
                        )
                        for r in rows[:12]
                    )
                    print(
                        f"{route:6} {'stream' if stream else 'plain':6} clients={clients:2}  "
                        f"statements {total:6.2f}  notifies {notified / args.requests:5.2f}  "
                        f"load {load_avg():.2f}\n    {top}",
                        flush=True,
                    )
    await conn.close()


@contextlib.contextmanager
def stack(args: argparse.Namespace, tmp: Path) -> Iterator[tuple[dict, str, str]]:
    settings = {"shared_preload_libraries": "pg_stat_statements", "pg_stat_statements.track": "top"}
    cluster = LocalPostgres(tmp / "pg", fsync=True, settings=settings)
    dsn = cluster.start()
    try:
        fake_port, http_port, grpc_port = free_port(FAKE_HOST), free_port(), free_port()
        fake = f"http://{FAKE_HOST}:{fake_port}"
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL",))}
        # What `llm-mcp up` gives its processes, nothing more: its defaults are what we measure.
        core_env = {
            **base_env,
            "DATABASE_URL": dsn,
            "HTTP_PORT": str(http_port),
            "GRPC_PORT": str(grpc_port),
            "DISCOVERY_INTERVAL": "0",
            "LOG_LEVEL": "WARNING",
        }
        worker_env = {
            **base_env,
            "CORE_GRPC_ADDR": f"127.0.0.1:{grpc_port}",
            "OLLAMA_BASE_URL": fake,
            "LOG_LEVEL": "WARNING",
        }
        cli = [sys.executable, "-m", "llm_mcp"]
        with contextlib.ExitStack() as stack_:
            fake_proc = stack_.enter_context(
                Proc.start(
                    [sys.executable, "-m", "bench.fake_ollama", FAKE_HOST, str(fake_port)],
                    base_env,
                    ready="ready",
                )
            )
            pg = Proc.postgres(cluster.data_dir)
            core = stack_.enter_context(
                Proc.start([*cli, "core"], core_env, health=f"http://127.0.0.1:{http_port}/health")
            )
            procs = {"core": core, "pg": pg, "fake": fake_proc}
            for i in range(1, args.workers + 1):
                procs[f"worker{i}"] = stack_.enter_context(
                    Proc.start([*cli, "worker"], {**worker_env, "WORKER_ID": f"bench-{i}"})
                )
            asyncio.run(_wait_workers(dsn, args.workers))
            systems: dict[str, tuple[str, dict[str, Proc]]] = {
                "direct": (fake, {"fake": fake_proc}),
                "llm-mcp": (f"http://127.0.0.1:{http_port}", procs),
            }
            litellm = args.litellm or os.environ.get("LITELLM_BIN")
            if args.statements:
                pass
            elif litellm and Path(litellm).exists():
                url, proc = stack_.enter_context(litellm_proxy(litellm, fake, MODEL, tmp, base_env))
                systems["litellm"] = (url, {"litellm": proc, "fake": fake_proc})
            else:
                print(f"LiteLLM: skipped (no --litellm / LITELLM_BIN; looked for {litellm!r})")
            yield systems, fake, dsn
    finally:
        cluster.stop(mode="immediate")


async def _wait_workers(dsn: str, count: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        for _ in range(600):
            if await conn.fetchval("SELECT count(*) FROM workers") >= count:
                return
            await asyncio.sleep(0.05)
        raise RuntimeError("workers did not register")
    finally:
        await conn.close()


def _loop_factory():  # type: ignore[no-untyped-def]
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", default="1,8,32,64")
    parser.add_argument("--routes", default=",".join(ROUTES))
    parser.add_argument("--stream", choices=("both", "on", "off"), default="both")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--litellm", help="the litellm executable of its own venv")
    parser.add_argument("--statements", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="llm-mcp-bench-"))
    try:
        with stack(args, tmp) as (systems, fake, dsn):
            print(
                f"{os.cpu_count()} cores; prompt {len(PROMPT.split())} words, 20 chunks streamed; "
                f"{args.workers} worker(s)",
                flush=True,
            )
            job = (
                statements_mode(args, systems["llm-mcp"][0], dsn)
                if args.statements
                else load_mode(args, systems, fake)
            )
            # The load generator on uvloop too: it shares the cores with what it measures.
            with asyncio.Runner(loop_factory=_loop_factory()) as runner:
                runner.run(job)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
