"""How long one status snapshot (GET /v1/dashboard, gRPC GetStatus) takes on a big jobs table,
and how long telemetry takes to render it.

    .venv/bin/python -m bench.dashboard_snapshot [--jobs 200000] [--requests 100]

Uses DATABASE_URL when set (its tables get filled!), else a private throw-away Postgres.
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

from core.runtime import running_core
from core.settings import CoreSettings
from llm_mcp.pgcluster import LocalPostgres
from proto.client import CoreClient
from telemetry.render import render_status

FILL = """
INSERT INTO jobs (id, kind, status, attempts, lease_until, lease_token, worker_id, device_id,
                  error, queued_at, started_at, finished_at)
SELECT gen_random_uuid(),
       (ARRAY['ollama.generate','ollama.embed','openai.chat','echo'])[1 + g % 4],
       s.status,
       1,
       CASE WHEN s.status = 'running' THEN now() + interval '1 hour' END,
       CASE WHEN s.status = 'running' THEN gen_random_uuid() END,
       'w-' || (g % 8),
       'device-' || (g % 40) || '.ts.net.',
       CASE WHEN s.status = 'error' THEN 'boom' END,
       now() - (g % 86400) * interval '1 second',
       now() - (g % 3600) * interval '1 second',
       CASE WHEN s.status IN ('done','error') THEN now() - (g % 86400) * interval '1 second' END
  FROM generate_series(1, $1) g,
       LATERAL (SELECT CASE WHEN g % 1000 = 0 THEN 'queued'
                            WHEN g % 997 = 0 THEN 'running'
                            WHEN g % 50 = 0 THEN 'error'
                            ELSE 'done' END AS status) s;
INSERT INTO devices (id, name, online)
SELECT 'device-' || g || '.ts.net.', 'device-' || g, g % 5 <> 0 FROM generate_series(0, 39) g;
INSERT INTO benchmarks (device_id, provider, model, task_type, tps, latency_ms, created_at)
SELECT 'device-' || (g % 40) || '.ts.net.', 'ollama', 'model-' || (g % 6), 'generate',
       10 + g % 30, 100 + g % 200, now() - g * interval '1 minute'
  FROM generate_series(1, 5000) g;
INSERT INTO workers (id, kinds) SELECT 'w-' || g, '{echo}' FROM generate_series(0, 7) g;
"""


async def measure(database_url: str, jobs: int, requests: int) -> None:
    settings = CoreSettings(database_url=database_url, http_port=0, grpc_port=0)
    async with running_core(settings, maintenance=False) as core:
        conn = await asyncpg.connect(database_url)
        try:
            started = time.perf_counter()
            await conn.execute(FILL.split(";\n")[0], jobs)
            for statement in FILL.split(";\n")[1:]:
                if statement.strip():
                    await conn.execute(statement)
            await conn.execute("ANALYZE")
            print(f"filled {jobs} jobs in {time.perf_counter() - started:.1f}s")
        finally:
            await conn.close()
        async with CoreClient(core.grpc_addr) as client:
            snapshot = await client.get_status()  # warm-up
            took = []
            for _ in range(requests):
                t0 = time.perf_counter()
                snapshot = await client.get_status()
                took.append((time.perf_counter() - t0) * 1000)
        took.sort()
        p95 = took[int(len(took) * 0.95) - 1]
        print(
            f"GetStatus over {jobs} jobs: median {statistics.median(took):.1f} ms, "
            f"p95 {p95:.1f} ms ({requests} calls, {os.cpu_count()} cores)"
        )
        t0 = time.perf_counter()
        for _ in range(100):
            text = render_status(snapshot)
        print(f"render_status: {(time.perf_counter() - t0) * 10:.2f} ms, {len(text)} chars")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    if url := os.environ.get("DATABASE_URL"):
        asyncio.run(measure(url, args.jobs, args.requests))
        return
    tmp = Path(tempfile.mkdtemp(prefix="llm-mcp-bench-"))
    cluster = LocalPostgres(tmp / "data", fsync=False, prefer_system=True)
    try:
        asyncio.run(measure(cluster.start(), args.jobs, args.requests))
    finally:
        cluster.stop(mode="immediate")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
