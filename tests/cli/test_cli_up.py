"""`llm-mcp up` with no DATABASE_URL: starts, serves, runs a job, stops with nothing left behind."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from llm_mcp.pgcluster import free_port
from tests.cli.up_support import postgres_processes, run_echo_job, start_up, wait_for_line


def _stop(proc: subprocess.Popen[str], data_dir: Path, sig: int = signal.SIGTERM) -> str:
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "stopped." in out
    assert not postgres_processes(data_dir), "Postgres left running"
    return out


@pytest.mark.slow
def test_up_runs_everything_stops_cleanly_and_keeps_its_data(tmp_path: Path) -> None:
    http_port, grpc_port = free_port(), free_port()
    proc = start_up(tmp_path, http_port, grpc_port)
    try:
        lines = wait_for_line(proc, "ready", within=90)
        printed = "\n".join(lines)
        base = f"http://127.0.0.1:{http_port}"
        # Every address a user needs is printed.
        for url in (base, f"{base}/docs", f"{base}/metrics", f"127.0.0.1:{grpc_port}", "/mcp"):
            assert url in printed, url
        assert "postgresql://" in printed and f"data in {tmp_path / 'postgres'}" in printed
        assert httpx.get(f"{base}/health").json()["status"] == "ok"
        job = run_echo_job(base, {"up": 1})
        job_id = job["id"]
        assert job["result"] == {"up": 1}
        assert postgres_processes(tmp_path), "the embedded Postgres should be running"
    finally:
        _stop(proc, tmp_path)
    assert (tmp_path / "postgres" / "PG_VERSION").exists(), "data is kept for the next start"

    # The next start reuses the data directory: the job is still there. Ctrl-C stops it.
    proc = start_up(tmp_path, http_port, grpc_port)
    try:
        printed = "\n".join(wait_for_line(proc, "ready", within=90))
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
