"""Shared set-up for benchmark scripts: a private Postgres (fsync on) and a core subprocess."""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from llm_mcp.pgcluster import LocalPostgres, free_port


@dataclass
class Core:
    http_url: str
    grpc_addr: str
    database_url: str


@contextlib.contextmanager
def postgres(database_url: str | None = None) -> Iterator[str]:
    """DATABASE_URL as given, or a fresh private cluster with fsync on (a realistic disk path)."""
    if database_url:
        yield database_url
        return
    tmp = Path(tempfile.mkdtemp(prefix="llm-mcp-bench-"))
    cluster = LocalPostgres(tmp / "data", fsync=True)
    try:
        yield cluster.start()
    finally:
        cluster.stop(mode="immediate")
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def core_process(database_url: str, **env: str) -> Iterator[Core]:
    http_port, grpc_port = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llm_mcp", "core"],
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "HTTP_PORT": str(http_port),
            "GRPC_PORT": str(grpc_port),
            "LOG_LEVEL": "WARNING",
            "DISCOVERY_INTERVAL": "0",  # no tailnet here; nothing to discover
            **env,
        },
    )
    url = f"http://127.0.0.1:{http_port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("core did not start")
            time.sleep(0.1)
        yield Core(url, f"127.0.0.1:{grpc_port}", database_url)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def stack_env(dsn: str, *, http_port: int, grpc_port: int, ollama_url: str) -> dict[str, str]:
    """Environment for a core and one 64-slot worker whose Ollama is `ollama_url`."""
    return {
        **os.environ,
        "DATABASE_URL": dsn,
        "HTTP_PORT": str(http_port),
        "GRPC_PORT": str(grpc_port),
        "CORE_GRPC_ADDR": f"127.0.0.1:{grpc_port}",
        "OLLAMA_BASE_URL": ollama_url,
        "WORKER_CONCURRENCY": "64",
        "WORKER_ID": "bench-worker",
        "DB_POOL_SIZE": "20",
        "LOG_LEVEL": "WARNING",
        "DISCOVERY_INTERVAL": "0",
    }


def core_env(env: dict[str, str]) -> dict[str, str]:
    """The stack's environment for core without OLLAMA_BASE_URL: core would make the fake a
    device of its own (capacity 1), and the figures are for the paths each script names."""
    return {k: v for k, v in env.items() if k != "OLLAMA_BASE_URL"}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def describe_ms(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 50):.2f} ms, p99 {percentile(values, 99):.2f} ms, "
        f"mean {statistics.fmean(values):.2f} ms (n={len(values)})"
    )
