"""How long a discovery round takes for a fleet of fake Ollama devices on loopback aliases.

    .venv/bin/python -m bench.discovery_round --devices 50 --models 10 --hanging 5

Starts a private Postgres (or uses BENCH_DATABASE_URL), core, the fake tailscale CLI
and one fake Ollama per device on 127.0.1.x, then times POST /v1/discovery/run:
the first round (every model new: one /api/show each) and steady-state rounds.
Fake servers share core's event loop and CPU, so figures are upper bounds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

from core.db.migrate import apply_schema
from llm_mcp.pgcluster import LocalPostgres
from testkit.fakes.ollama import FakeOllama, tag
from testkit.fakes.server import HangingServer, common_ports
from testkit.fakes.tailnet import FAKE_TAILSCALE, node, status, write_status
from testkit.support import start_core


async def bench(dsn: str, devices: int, models: int, hanging: int, rounds: int) -> None:
    conn = await asyncpg.connect(dsn)
    await apply_schema(conn)
    await conn.close()
    tmp = Path(tempfile.mkdtemp(prefix="bench-discovery-"))
    ips = [f"127.0.1.{i}" for i in range(1, devices + hanging + 1)]
    (port,) = common_ports(ips, 1)
    catalog = [
        tag(f"model-{i}:7b", 4_000_000_000 + i, "llama", "7B", "Q4_K_M") for i in range(models)
    ]
    servers: list[FakeOllama | HangingServer] = [
        FakeOllama(ip, port, models=catalog) for ip in ips[:devices]
    ]
    servers += [HangingServer(ip, port) for ip in ips[devices:]]
    peers = [node(f"dev{i}", ip, dns_name=f"dev{i}.tail1234.ts.net.") for i, ip in enumerate(ips)]
    write_status(tmp / "status.json", status(node("core", "127.0.0.1", dns_name="core.ts."), peers))
    os.environ["FAKE_TAILSCALE_STATUS"] = str(tmp / "status.json")
    for server in servers:
        await server.start()
    try:
        settings = {
            "tailscale_bin": str(FAKE_TAILSCALE),
            "tailscale_socket": "",
            "ollama_ports": str(port),
            "discovery_probe_timeout": 2.0,
        }
        async with (
            start_core(dsn, **settings) as core,
            httpx.AsyncClient(base_url=core.http_url, timeout=120) as http,
        ):
            times = []
            for i in range(rounds):
                started = time.perf_counter()
                summary = (await http.post("/v1/discovery/run")).json()["summary"]
                times.append((time.perf_counter() - started) * 1000)
                if i == 0:
                    added, errors = len(summary["models_added"]), len(summary["errors"])
                    print(
                        f"first round: {times[0]:.0f} ms; with_ollama={summary['with_ollama']} "
                        f"models_added={added} errors={errors}"
                    )
            steady = times[1:]
            if steady:
                print(
                    f"steady rounds ({len(steady)}): median {statistics.median(steady):.0f} ms, "
                    f"max {max(steady):.0f} ms"
                )
    finally:
        for server in servers:
            await server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--hanging", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(
        f"cores: {os.cpu_count()}; devices={args.devices} models={args.models} "
        f"hanging={args.hanging}"
    )
    if dsn := os.environ.get("BENCH_DATABASE_URL"):
        asyncio.run(bench(dsn, args.devices, args.models, args.hanging, args.rounds))
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    cluster = LocalPostgres(tmp / "data", fsync=False, prefer_system=True)
    try:
        dsn = cluster.start()
        asyncio.run(bench(dsn, args.devices, args.models, args.hanging, args.rounds))
    finally:
        cluster.stop(mode="immediate")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
