"""Helpers for tests of `llm-mcp up` as a user runs it: a real process tree on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from llm_mcp.pgcluster import free_port


def wait_for_line(proc: subprocess.Popen[str], needle: str, within: float) -> list[str]:
    """The lines `proc` printed up to the first that contains `needle`."""
    lines: list[str] = []
    deadline = time.monotonic() + within
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        lines.append(line.rstrip())
        if needle in line:
            return lines
    raise AssertionError(f"{needle!r} not printed; output:\n" + "\n".join(lines))


def postgres_processes(data_dir: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if "postgres" in cmdline and str(data_dir) in cmdline:
            found.append(proc)
    return found


def up_command(
    data_dir: Path,
    http_port: int,
    grpc_port: int,
    *,
    workers: int = 2,
    host: str = "127.0.0.1",
    bridge_port: int | None = None,
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "llm_mcp",
        "up",
        "--workers",
        str(workers),
        "--host",
        host,
        "--data-dir",
        str(data_dir),
        "--http-port",
        str(http_port),
        "--grpc-port",
        str(grpc_port),
        "--bridge-port",
        str(bridge_port or free_port()),
    ]


def up_env(**extra: str) -> dict[str, str]:
    """This environment without DATABASE_URL (so `up` runs its own Postgres), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def start_up(
    data_dir: Path,
    http_port: int,
    grpc_port: int,
    *,
    env: dict[str, str] | None = None,
    **kw: object,
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        up_command(data_dir, http_port, grpc_port, **kw),  # type: ignore[arg-type]
        env=env or up_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def run_echo_job(base_url: str, payload: dict[str, object], within: float = 30) -> dict[str, Any]:
    """Submits an echo job over HTTP and returns it once done."""
    job_id = httpx.post(f"{base_url}/v1/jobs", json={"kind": "echo", "payload": payload}).json()[
        "job_id"
    ]
    deadline = time.monotonic() + within
    while (job := httpx.get(f"{base_url}/v1/jobs/{job_id}").json())["status"] != "done":
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    return job
