"""The live dashboard under load: a page open while echo jobs flow at a steady rate.

    .venv/bin/python -m bench.dashboard_load [--rate 500] [--closed-seconds 40] [--minutes 3]

Core, one real `llm-mcp worker` (64 slots) and a load process (batch submits over HTTP) run as
separate processes; a headless chromium (Debian's, driven by Playwright) opens /ui/. Prints:
  1. core's and Postgres's CPU per second with no page open, then with the page open, and the
     ratios;
  2. the jobs/s that actually finished in each phase (the page must not slow the queue);
  3. update latency: a probe job every second (source=probe, the page's job filter), from its
     finished_at (Postgres clock) to the moment the page shows it `done` (browser clock; same
     machine), p50/p99;
  4. the page's JS heap and the browser's memory (all its processes) at the start and every
     minute: flat is the goal.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
import psutil

from bench.common import core_process, percentile, postgres

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BATCH = 50
# Records when each job row first shows `done` (Date.now(), ms).
WATCH_DONE = """
window.__doneSeen = {};
new MutationObserver(() => {
  for (const row of document.querySelectorAll('tr[data-status="done"]')) {
    const id = row.dataset.jobId;
    if (!(id in window.__doneSeen)) window.__doneSeen[id] = Date.now();
  }
}).observe(document, {subtree: true, childList: true, attributes: true,
                      attributeFilter: ["data-status"]});
"""


def _load(url: str, rate: int, stop: mp.Event) -> None:  # type: ignore[valid-type]
    """Submits echo jobs in batches at `rate` jobs/s (or as fast as core takes them)."""
    interval = BATCH / rate
    body = [{"kind": "echo", "payload": {"n": 1}, "source": "load"}] * BATCH
    with httpx.Client(base_url=url, timeout=30) as http:
        next_at = time.monotonic()
        while not stop.is_set():
            http.post("/v1/jobs/batch", json=body).raise_for_status()
            next_at += interval
            pause = next_at - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            else:
                next_at = time.monotonic()  # behind: do not burst to catch up


def _cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def _listener_pid(port: int) -> int:
    for conn in psutil.net_connections("tcp"):
        if conn.status == "LISTEN" and conn.laddr.port == port and conn.pid:
            return conn.pid
    raise RuntimeError(f"no process listens on port {port}")


def _browser_rss_mb(pid: int) -> float:
    root = psutil.Process(pid)
    total = 0
    for proc in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total / 2**20


def _tree_cpu_seconds(pid: int) -> float:
    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


async def _done_count(http: httpx.AsyncClient) -> int:
    snapshot = (await http.get("/v1/dashboard")).json()
    return snapshot["jobs"]["done"]  # finished within the last hour


class Phase:
    """CPU seconds per second of core and of Postgres, and jobs done per second, over a phase."""

    def __init__(self, core_pid: int, pg_pid: int, http: httpx.AsyncClient) -> None:
        self.core_pid, self.pg_pid, self.http = core_pid, pg_pid, http

    async def __aenter__(self) -> Phase:
        self.t0 = time.monotonic()
        self.core0, self.pg0 = _cpu_seconds(self.core_pid), _tree_cpu_seconds(self.pg_pid)
        self.done0 = await _done_count(self.http)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        elapsed = time.monotonic() - self.t0
        self.core = (_cpu_seconds(self.core_pid) - self.core0) / elapsed
        self.pg = (_tree_cpu_seconds(self.pg_pid) - self.pg0) / elapsed
        self.rate = (await _done_count(self.http) - self.done0) / elapsed


async def _probe(http: httpx.AsyncClient, finished: dict[str, float], stop: asyncio.Event) -> None:
    """One probe job a second; records its finished_at (ms since the epoch)."""
    pending: list[str] = []
    while not stop.is_set():
        answer = await http.post(
            "/v1/jobs", json={"kind": "echo", "payload": {}, "source": "probe"}
        )
        pending.append(answer.json()["job_id"])
        for job_id in list(pending):
            job = (await http.get(f"/v1/jobs/{job_id}")).json()
            if job["status"] == "done":
                finished[job_id] = datetime.fromisoformat(job["finished_at"]).timestamp() * 1000
                pending.remove(job_id)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def run(args: argparse.Namespace, url: str, http_port: int, pg_port: int) -> None:
    from playwright.async_api import async_playwright

    pid, pg_pid = _listener_pid(http_port), _listener_pid(pg_port)
    stop_load = mp.Event()
    loader = mp.Process(target=_load, args=(url, args.rate, stop_load), daemon=True)
    loader.start()
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        await asyncio.sleep(10)  # warm up: the queue reaches its steady state
        async with Phase(pid, pg_pid, http) as closed:
            await asyncio.sleep(args.closed_seconds)
        print(
            f"   page closed: core CPU {closed.core:.3f} s/s, Postgres {closed.pg:.3f} s/s, "
            f"{closed.rate:.0f} jobs/s done",
            flush=True,
        )

        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            browser_pid = next(
                c.pid
                for c in psutil.Process().children(recursive=True)
                if "chromium" in " ".join(c.cmdline()) and "--type=" not in " ".join(c.cmdline())
            )
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.add_init_script(WATCH_DONE)
            await page.goto(f"{url}/ui/#/jobs?source=probe")
            await page.locator('[data-link="live"]').wait_for()
            cdp = await page.context.new_cdp_session(page)
            await cdp.send("Performance.enable")

            async def memory() -> tuple[float, float]:
                metrics = {
                    m["name"]: m["value"]
                    for m in (await cdp.send("Performance.getMetrics"))["metrics"]
                }
                return metrics["JSHeapUsedSize"] / 2**20, _browser_rss_mb(browser_pid)

            finished: dict[str, float] = {}
            stop_probe = asyncio.Event()
            probe = asyncio.create_task(_probe(http, finished, stop_probe))
            samples = [(0, *await memory())]
            browser_cpu0 = _tree_cpu_seconds(browser_pid)
            async with Phase(pid, pg_pid, http) as opened:
                for minute in range(1, args.minutes + 1):
                    await asyncio.sleep(60)
                    samples.append((minute, *await memory()))
            browser_cpu = (_tree_cpu_seconds(browser_pid) - browser_cpu0) / (args.minutes * 60)
            stop_probe.set()
            await probe
            await asyncio.sleep(2)  # the last probes reach the page
            seen = await page.evaluate("window.__doneSeen")
            await browser.close()
    stop_load.set()
    loader.join(timeout=30)

    latencies = [seen[j] - at for j, at in finished.items() if j in seen]
    print(
        f"   page open:   core CPU {opened.core:.3f} s/s, Postgres {opened.pg:.3f} s/s, "
        f"{opened.rate:.0f} jobs/s done"
    )
    print()
    print(
        f"1. CPU, page open / closed: core {opened.core / closed.core:.2f}x "
        f"({opened.core - closed.core:+.3f} s/s), Postgres {opened.pg / closed.pg:.2f}x "
        f"({opened.pg - closed.pg:+.3f} s/s)"
    )
    print(f"   the browser itself (all its processes): {browser_cpu:.3f} CPU s/s")
    print(f"2. jobs/s done: closed {closed.rate:.0f}, open {opened.rate:.0f} (target {args.rate})")
    missed = len(finished) - len(latencies)
    print(
        f"3. job done -> shown: p50 {percentile(latencies, 50):.0f} ms, "
        f"p99 {percentile(latencies, 99):.0f} ms, max {max(latencies, default=0):.0f} ms "
        f"(n={len(latencies)}, not seen {missed})"
    )
    print("4. memory:   minute   JS heap MB   browser RSS MB")
    for minute, heap, rss in samples:
        print(f"            {minute:6d}   {heap:10.1f}   {rss:14.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=int, default=500, help="echo jobs submitted per second")
    parser.add_argument("--closed-seconds", type=float, default=40.0)
    parser.add_argument("--minutes", type=int, default=3, help="how long the page stays open")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install -y chromium")
    print(f"cores: {os.cpu_count()}, load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    with postgres(args.database_url) as dsn, core_process(dsn) as core:
        http_port = int(core.http_url.rsplit(":", 1)[1])
        pg_port = int(dsn.rsplit(":", 1)[1].split("/", 1)[0])
        worker = subprocess.Popen(
            [sys.executable, "-m", "llm_mcp", "worker"],
            env={
                **os.environ,
                "CORE_GRPC_ADDR": core.grpc_addr,
                "WORKER_CONCURRENCY": "64",
                "WORKER_KINDS": "echo",
                "WORKER_ID": "bench-dashboard",
                "LOG_LEVEL": "WARNING",
            },
        )
        try:
            asyncio.run(run(args, core.http_url, http_port, pg_port))
        finally:
            worker.terminate()
            worker.wait(timeout=60)
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
