"""Processes for chaos tests (and bench/chaos.py): core replicas and workers as real
subprocesses that can be SIGKILLed or SIGSTOPped, and the checks every scenario ends with."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from llm_mcp.pgcluster import free_port

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        self.popen.send_signal(signal.SIGSTOP)

    def cont(self) -> None:
        self.popen.send_signal(signal.SIGCONT)

    def terminate(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGCONT)
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Cluster:
    """Started processes; everything is stopped on exit."""

    workdir: Path
    database_url: str
    procs: list[Proc] = field(default_factory=list)
    chaos_log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.chaos_log = self.workdir / "completions.log"

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> Proc:
        log = self.workdir / f"{name}.log"
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("TEST_")}
        full_env.update(env)
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [sys.executable, *args], cwd=ROOT, env=full_env, stdout=out, stderr=out
            )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def core(self, name: str, **env: str) -> tuple[Proc, str, str]:
        """A core replica; returns (process, http url, grpc address)."""
        http_port, grpc_port = free_port(), free_port()
        values = {
            "DATABASE_URL": self.database_url,
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(http_port),
            "GRPC_HOST": "127.0.0.1",
            "GRPC_PORT": str(grpc_port),
            "SWEEP_INTERVAL": "0.2",
            "DISCOVERY_INTERVAL": "0",
            "LOG_LEVEL": "INFO",
        }
        values.update(env)
        proc = self._spawn(name, ["-m", "llm_mcp", "core"], values)
        return proc, f"http://127.0.0.1:{http_port}", f"127.0.0.1:{grpc_port}"

    def worker(self, name: str, grpc_addr: str, **env: str) -> Proc:
        values = {
            "CORE_GRPC_ADDR": grpc_addr,
            "WORKER_ID": name,
            "WORKER_LEASE_SECONDS": "3",
            "WORKER_CONCURRENCY": "4",
            "WORKER_CLAIM_WAIT": "2",
            "WORKER_SHUTDOWN_GRACE": "1",
            "CHAOS_LOG": str(self.chaos_log),
            "LOG_LEVEL": "INFO",
        }
        values.update(env)
        return self._spawn(name, ["-m", "testkit.chaos_worker"], values)

    def finished_work(self) -> Counter[str]:
        """How many times each job's handler ran to its end (any worker, any attempt)."""
        if not self.chaos_log.exists():
            return Counter()
        return Counter(line.split()[0] for line in self.chaos_log.read_text().splitlines())

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.terminate()


@contextlib.contextmanager
def cluster(workdir: Path, database_url: str) -> Iterator[Cluster]:
    c = Cluster(workdir, database_url)
    try:
        yield c
    finally:
        c.close()


@dataclass
class Tally:
    acknowledged: int
    done: int
    error: int
    unfinished: int
    lost: int
    completed_twice: int
    hit_max_attempts: int
    lease_expired_attempts: int

    def __str__(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.__dict__.items())


async def tally(conn: asyncpg.Connection, acknowledged: list[str]) -> Tally:
    """Counts what happened to the acknowledged jobs: a job is lost when it is missing or
    neither finished nor still queued/running; completed twice when more than one attempt
    (or more than one terminal event) says done."""
    ids = list(acknowledged)
    rows = await conn.fetch(
        """
        SELECT j.id::text AS id, j.status, j.attempts, j.max_attempts, j.error,
               (SELECT count(*) FROM job_attempts a
                 WHERE a.job_id = j.id AND a.outcome = 'done') AS done_attempts,
               (SELECT count(*) FROM job_events e
                 WHERE e.job_id = j.id AND e.type IN ('done', 'error', 'canceled')) AS ends,
               (SELECT count(*) FROM job_attempts a
                 WHERE a.job_id = j.id AND a.outcome = 'lease_expired') AS expired
          FROM jobs j WHERE j.id = ANY($1::uuid[])
        """,
        ids,
    )
    by_id: dict[str, Any] = {r["id"]: r for r in rows}
    statuses = Counter(r["status"] for r in rows)
    return Tally(
        acknowledged=len(ids),
        done=statuses["done"],
        error=statuses["error"],
        unfinished=statuses["queued"] + statuses["running"],
        lost=len(ids) - len(by_id),
        completed_twice=sum(1 for r in rows if r["done_attempts"] > 1 or r["ends"] > 1),
        hit_max_attempts=sum(
            1 for r in rows if r["status"] == "error" and "attempts exhausted" in (r["error"] or "")
        ),
        lease_expired_attempts=sum(r["expired"] for r in rows),
    )


class CuttableProxy:
    """A TCP proxy to core that a test can cut (every connection closed, new ones refused)
    and restore: a worker that cannot reach core for a while."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.cut = False
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return f"127.0.0.1:{self.port}"

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await reader.read(65536):
                if self.cut:
                    break
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        self._writers -= {writer, up_writer}

    def set_cut(self, cut: bool) -> None:
        self.cut = cut
        if cut:
            for writer in list(self._writers):
                writer.close()

    async def close(self) -> None:
        self.set_cut(True)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
