"""Discovery's tailscale calls next to a busy gRPC server: no child ever crashes before exec."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import uvloop

from core.fleet.tailscale import read_status
from core.queue.schemas import JobCreate
from testkit.fakes.tailnet import node, status
from testkit.support import eventually, running_worker, start_core

ROUNDS = 1000


def _fake_tailscale(tmp_path: Path) -> Path:
    """A tailscale CLI that costs one exec of /bin/sh (printf is a builtin): 1,000 rounds
    stay fast, so the test measures the spawning, not the fake."""
    import json

    doc = json.dumps(status(node("core-box", "127.0.0.2", dns_name="core-box.ts.net."), []))
    script = tmp_path / "tailscale"
    script.write_text(f"#!/bin/sh\nprintf '%s' '{doc}'\n")
    script.chmod(0o755)
    return script


async def _scenario(database_url: str, fake: Path) -> tuple[list[str], int, dict]:
    async with (
        start_core(database_url, tailscale_bin=str(fake), tailscale_socket="") as core,
        running_worker(core.grpc_addr, worker_concurrency=8, worker_claim_wait=1),
    ):
        stop = asyncio.Event()
        done = 0

        async def keep_worker_busy() -> None:
            # Jobs flow through the worker's gRPC claims and completions the whole time.
            nonlocal done
            queue = core.runtime.queue
            while not stop.is_set():
                batch = await queue.submit(
                    [JobCreate(kind="echo", payload={"n": i}) for i in range(8)]
                )
                for submitted in batch:
                    job_id = str(submitted.job.id)

                    async def finished(job_id: str = job_id) -> bool:
                        return (await queue.get(job_id)).status == "done"

                    await eventually(finished, within=30)
                done += len(batch)

        busy = asyncio.create_task(keep_worker_busy())
        failures: list[str] = []
        limit = asyncio.Semaphore(8)

        async def one_round() -> None:
            async with limit:
                try:
                    await read_status(str(fake), None, limit_seconds=30)
                except Exception as exc:
                    failures.append(f"{type(exc).__name__}: {exc}")

        await asyncio.gather(*(one_round() for _ in range(ROUNDS)))
        # And a full round through the API uses the same path.
        async with httpx.AsyncClient(base_url=core.http_url) as http:
            summary = (await http.post("/v1/discovery/run")).json()["summary"]
        stop.set()
        await busy
        return failures, done, summary


def test_a_thousand_tailscale_rounds_next_to_a_busy_worker_never_fail(
    database_url: str, tmp_path: Path
) -> None:
    # uvloop, as `llm-mcp core` runs: its own subprocesses fork(), which is what crashed.
    failures, jobs_done, summary = uvloop.run(_scenario(database_url, _fake_tailscale(tmp_path)))
    assert failures == [], f"{len(failures)} of {ROUNDS} rounds failed, e.g. {failures[:3]}"
    assert jobs_done > 0, "the worker was busy during the rounds"
    assert summary["error"] is None and summary["devices_seen"] == 1, summary
