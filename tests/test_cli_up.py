"""`llm-mcp up` with no DATABASE_URL: starts, serves, runs a job, stops with nothing left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from llm_mcp.pgcluster import free_port


def _wait_for_line(proc: subprocess.Popen[str], needle: str, within: float) -> list[str]:
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


def _postgres_processes(data_dir: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if "postgres" in cmdline and str(data_dir) in cmdline:
            found.append(proc)
    return found


def _start_up(data_dir: Path, http_port: int, grpc_port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PYTHONUNBUFFERED"] = "1"
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llm_mcp",
            "up",
            "--workers",
            "2",
            "--data-dir",
            str(data_dir),
            "--http-port",
            str(http_port),
            "--grpc-port",
            str(grpc_port),
            "--bridge-port",
            str(free_port()),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(proc: subprocess.Popen[str], data_dir: Path, sig: int = signal.SIGTERM) -> str:
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "stopped." in out
    assert not _postgres_processes(data_dir), "Postgres left running"
    return out


def test_up_runs_everything_stops_cleanly_and_keeps_its_data(tmp_path: Path) -> None:
    http_port, grpc_port = free_port(), free_port()
    proc = _start_up(tmp_path, http_port, grpc_port)
    try:
        lines = _wait_for_line(proc, "ready", within=90)
        printed = "\n".join(lines)
        base = f"http://127.0.0.1:{http_port}"
        # Every address a user needs is printed.
        for url in (base, f"{base}/docs", f"{base}/metrics", f"127.0.0.1:{grpc_port}", "/mcp"):
            assert url in printed, url
        assert "postgresql://" in printed and f"data in {tmp_path / 'postgres'}" in printed
        assert httpx.get(f"{base}/health").json()["status"] == "ok"
        job_id = httpx.post(f"{base}/v1/jobs", json={"kind": "echo", "payload": {"up": 1}}).json()[
            "job_id"
        ]
        deadline = time.monotonic() + 30
        while (job := httpx.get(f"{base}/v1/jobs/{job_id}").json())["status"] != "done":
            assert time.monotonic() < deadline, job
            time.sleep(0.05)
        assert job["result"] == {"up": 1}
        assert _postgres_processes(tmp_path), "the embedded Postgres should be running"
    finally:
        _stop(proc, tmp_path)
    assert (tmp_path / "postgres" / "PG_VERSION").exists(), "data is kept for the next start"

    # The next start reuses the data directory: the job is still there. Ctrl-C stops it.
    proc = _start_up(tmp_path, http_port, grpc_port)
    try:
        printed = "\n".join(_wait_for_line(proc, "ready", within=90))
        assert f"data in {tmp_path / 'postgres'}" in printed
        again = httpx.get(f"http://127.0.0.1:{http_port}/v1/jobs/{job_id}").json()
        assert again["status"] == "done" and again["result"] == {"up": 1}
    finally:
        _stop(proc, tmp_path, signal.SIGINT)


def test_up_says_which_port_is_taken(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "llm_mcp",
                "up",
                "--http-port",
                str(port),
                "--data-dir",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert f"port {port} (HTTP)" in result.stderr and "--http-port" in result.stderr
