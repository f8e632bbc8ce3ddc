"""The deployment under test, spread over the lab's hosts: Postgres on `db`, a core replica on
`core-a` and `core-b`, on `gpu-1` and `gpu-2` a worker next to a fake Ollama. Every process is
the real one (`llm-mcp core`, a worker), configured by environment as an operator would."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from testkit.chaos import Proc
from testkit.multihost.lab import SUBNET, Lab

CLIENT_TOKEN = "lab-client-token"
WORKER_TOKEN = "lab-worker-token"
CORES = ("core-a", "core-b")
GPUS = ("gpu-1", "gpu-2")
HTTP_PORT, GRPC_PORT, PG_PORT, OLLAMA_PORT = 8080, 9090, 5432, 11434
RELAY_PORTS = {"core-a": 19091, "core-b": 19092}
LINK_DELAY_MS = 200


@dataclass
class Timing:
    """Short for the suite, longer for the bench."""

    lease_seconds: int = 3
    shutdown_grace: float = 5.0
    worker_concurrency: int = 4


@dataclass
class Fleet:
    lab: Lab
    timing: Timing = field(default_factory=Timing)
    cores: dict[str, Proc] = field(default_factory=dict)
    workers: dict[str, Proc] = field(default_factory=dict)
    relays: dict[str, Proc] = field(default_factory=dict)

    @property
    def workdir(self) -> Path:
        return self.lab.workdir

    @property
    def completions_log(self) -> Path:
        return self.workdir / "completions.log"

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@{self.lab.addr('db')}:{PG_PORT}/postgres"

    def url(self, core: str) -> str:
        return f"http://{self.lab.addr(core)}:{HTTP_PORT}"

    @property
    def urls(self) -> list[str]:
        return [self.url(c) for c in CORES]

    @property
    def grpc_target(self) -> str:
        """What workers dial: every replica in one target (the channel skips a lost one),
        through the delay relay on their own host (see delay_relay)."""
        return "ipv4:" + ",".join(f"127.0.0.1:{RELAY_PORTS[c]}" for c in CORES)

    def delay_workers(self, *, on: bool) -> None:
        """Latency on the workers' traffic to core, for kernels without tc netem."""
        for relay in self.relays.values():
            relay.popen.send_signal(signal.SIGUSR1 if on else signal.SIGUSR2)

    # -- db ----------------------------------------------------------------------

    def _pg(self, action: str) -> None:
        self.lab.run(
            "db",
            [
                "-m",
                "testkit.multihost.pg_host",
                action,
                str(self.workdir / "pgdata"),
                self.lab.addr("db"),
                str(PG_PORT),
                f"{SUBNET}.0/24",
            ],
        )

    def start_db(self) -> None:
        self._pg("start")

    def stop_db(self) -> None:
        self._pg("stop")

    # -- core --------------------------------------------------------------------

    def start_core(self, host: str) -> Proc:
        addr = self.lab.addr(host)
        proc = self.lab.spawn(
            host,
            host,
            ["-m", "llm_mcp", "core"],
            {
                "DATABASE_URL": self.dsn,
                "HTTP_HOST": addr,
                "HTTP_PORT": str(HTTP_PORT),
                "GRPC_HOST": addr,
                "GRPC_PORT": str(GRPC_PORT),
                "API_TOKEN": CLIENT_TOKEN,
                "WORKER_TOKEN": WORKER_TOKEN,
                "SWEEP_INTERVAL": "0.2",
                "DISCOVERY_INTERVAL": "0",
                "SSE_PING_SECONDS": "1",
                "RETRY_BASE_SECONDS": "0.2",
                "RETRY_CAP_SECONDS": "1",
                "SHUTDOWN_GRACE_SECONDS": str(self.timing.shutdown_grace),
                "DB_POOL_SIZE": "10",
            },
        )
        self.cores[host] = proc
        return proc

    def stop_core(self, host: str) -> float:
        """SIGTERM, as an orchestrator sends; returns the seconds the replica took to exit."""
        proc = self.cores.pop(host)
        started = time.monotonic()
        proc.popen.terminate()
        proc.popen.wait(self.timing.shutdown_grace + 10)
        return time.monotonic() - started

    # -- gpu hosts ---------------------------------------------------------------

    def start_gpu(self, host: str) -> None:
        routes = [f"{RELAY_PORTS[c]}={self.lab.addr(c)}:{GRPC_PORT}" for c in CORES]
        self.relays[host] = self.lab.spawn(
            host,
            f"{host}-relay",
            ["-m", "testkit.multihost.delay_relay", str(LINK_DELAY_MS), *routes],
            {},
        )
        self.lab.spawn(
            host,
            f"{host}-ollama",
            ["-m", "bench.fake_ollama", "127.0.0.1", str(OLLAMA_PORT)],
            {},
        )
        self.workers[host] = self.lab.spawn(
            host,
            f"{host}-worker",
            ["-m", "testkit.chaos_worker"],
            {
                "CHAOS_PROVIDERS": "1",
                "CHAOS_LOG": str(self.completions_log),
                "CORE_GRPC_ADDR": self.grpc_target,
                "WORKER_ID": host,
                "WORKER_TOKEN": WORKER_TOKEN,
                "OLLAMA_BASE_URL": f"http://127.0.0.1:{OLLAMA_PORT}",
                "WORKER_LEASE_SECONDS": str(self.timing.lease_seconds),
                "WORKER_CONCURRENCY": str(self.timing.worker_concurrency),
                "WORKER_CLAIM_WAIT": "2",
                "WORKER_SHUTDOWN_GRACE": "2",
                "PROVIDER_CONNECT_TIMEOUT": "2",
            },
        )

    def start(self) -> None:
        self.start_db()
        for core in CORES:
            self.start_core(core)
        for gpu in GPUS:
            self.start_gpu(gpu)

    def close(self) -> None:
        """Stops every process, Postgres last (it daemonizes, so the lab cannot see it)."""
        for proc in reversed(self.lab.procs):
            proc.terminate()
        with contextlib.suppress(RuntimeError, OSError, subprocess.TimeoutExpired):
            self.stop_db()

    def logs(self) -> str:
        """The tail of every process's log, for a failure message."""
        out = []
        for proc in self.lab.procs:
            out.append(f"--- {proc.name}\n" + "\n".join(proc.output().splitlines()[-15:]))
        return "\n".join(out)


async def healthy(http: httpx.AsyncClient, url: str, within: float = 60) -> float:
    """Waits for the replica's /health to answer 200; returns how long that took."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        with contextlib.suppress(httpx.HTTPError):
            if (await http.get(f"{url}/health", timeout=2)).status_code == 200:
                return time.monotonic() - started
        await asyncio.sleep(0.1)  # polling a condition with a deadline
    raise AssertionError(f"{url} did not become healthy within {within}s")
