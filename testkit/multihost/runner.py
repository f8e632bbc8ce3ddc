"""Runs scenarios in a fresh lab: namespaces up, the fleet started, each scenario from the
`client` host with a client of its own, everything torn down at the end (also on failure)."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from testkit.multihost import scenarios as s
from testkit.multihost.fleet import CLIENT_TOKEN, CORES, GPUS, Fleet, Timing, healthy
from testkit.multihost.lab import NetnsLoop, lab

# A scenario that has not ended by then is stuck: fail with the processes' logs.
SCENARIO_TIMEOUT = 240.0

Scenario = Callable[[Fleet, s.Client, s.Sizes], Awaitable[s.Row]]
SCENARIOS: dict[str, Scenario] = {
    "steady": s.steady,
    "worker-cut": s.worker_cut,
    "netem": s.lossy_links,
    "core-db-cut": s.core_cut_from_db,
    "db-restart": s.db_restart,
    "rolling-restart": s.rolling_restart,
}


async def _ready(fleet: Fleet, http: httpx.AsyncClient) -> None:
    for core in CORES:
        await healthy(http, fleet.url(core), within=120)

    async def registered() -> bool:
        answer = await http.get(f"{fleet.urls[0]}/v1/dashboard", timeout=3)
        workers = {w["id"] for w in answer.json()["workers"]}
        return set(GPUS) <= workers

    await s.until(registered, 60, "both workers registered")


async def _run(fleet: Fleet, sizes: s.Sizes, names: list[str]) -> list[s.Row]:
    headers = {"authorization": f"Bearer {CLIENT_TOKEN}"}
    async with httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(5.0)) as http:
        await _ready(fleet, http)
        rows: list[s.Row] = []
        baseline = 0.0
        for name in names:
            client = s.Client(fleet, http)
            print(f"multihost: {name} ...", file=sys.stderr, flush=True)
            row = await asyncio.wait_for(SCENARIOS[name](fleet, client, sizes), SCENARIO_TIMEOUT)
            rate = row.finished / row.seconds
            if name == "steady":
                baseline = rate
            elif name == "netem" and baseline:
                row.note += f" ({rate / baseline:.0%} of steady)"
            rows.append(row)
        return rows


def run_lab(
    workdir: Path, names: list[str], *, sizes: s.Sizes | None = None, timing: Timing | None = None
) -> tuple[list[s.Row], float]:
    """The scenarios' rows, and the seconds the fleet took to start."""
    with lab(workdir) as made:
        fleet = Fleet(made, timing or Timing())
        loop = NetnsLoop(made.ns("client"))
        try:
            started = time.monotonic()
            fleet.start()
            rows = loop.run(_run(fleet, sizes or s.Sizes(), names), timeout=900)
            return rows, time.monotonic() - started - sum(r.seconds for r in rows)
        except BaseException as exc:
            raise AssertionError(f"{exc}\n{fleet.logs()}") from exc
        finally:
            loop.close()
            fleet.close()
