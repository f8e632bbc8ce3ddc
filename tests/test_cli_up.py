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


def test_up_runs_everything_and_stops_cleanly(tmp_path: Path) -> None:
    http_port, grpc_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llm_mcp",
            "up",
            "--workers",
            "2",
            "--data-dir",
            str(tmp_path),
            "--http-port",
            str(http_port),
            "--grpc-port",
            str(grpc_port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = _wait_for_line(proc, "ready", within=90)
        printed = "\n".join(lines)
        assert f"http://127.0.0.1:{http_port}" in printed
        assert f"127.0.0.1:{grpc_port}" in printed and "postgresql://" in printed
        base = f"http://127.0.0.1:{http_port}"
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
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "stopped." in out
    assert not _postgres_processes(tmp_path), "Postgres left running"
    assert (tmp_path / "postgres" / "PG_VERSION").exists(), "data is kept for the next start"


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
