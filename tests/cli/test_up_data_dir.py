"""One data dir, one owner: a second `llm-mcp up` on the same dir never harms the first."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import httpx
import psutil
import pytest

from llm_mcp.pgcluster import free_port
from tests.cli.up_support import (
    postgres_processes,
    run_echo_job,
    start_up,
    up_command,
    up_env,
    wait_for_line,
)

pytestmark = pytest.mark.slow


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    return out


def test_second_up_on_the_same_dir_is_refused_and_the_first_keeps_working(
    tmp_path: Path,
) -> None:
    http_port, grpc_port = free_port(), free_port()
    first = start_up(tmp_path, http_port, grpc_port, workers=1)
    base = f"http://127.0.0.1:{http_port}"
    try:
        wait_for_line(first, "ready", within=90)
        second_http = free_port()
        second = subprocess.run(
            up_command(tmp_path, second_http, free_port(), workers=1),
            env=up_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        # Refused at once, naming the running instance and how to get past it.
        assert second.returncode == 2, second.stdout + second.stderr
        for needed in (f"pid {first.pid}", base, f"127.0.0.1:{grpc_port}", "--data-dir"):
            assert needed in second.stderr, (needed, second.stderr)
        assert "DATABASE_URL=postgresql://" in second.stderr
        assert "Postgres" not in second.stdout, "the second `up` must not touch Postgres"

        # The first is untouched: healthy, and still runs jobs.
        assert first.poll() is None
        assert httpx.get(f"{base}/health").json()["status"] == "ok"
        job = run_echo_job(base, {"after": "second up"})
        assert job["result"] == {"after": "second up"}
    except BaseException:
        first.kill()
        raise

    # Killed without a chance to clean up: its Postgres stays behind, the lock does not.
    children = psutil.Process(first.pid).children()
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    # Its services stop by themselves (they get SIGTERM when their parent dies).
    _gone, alive = psutil.wait_procs(children, timeout=45)
    assert not alive, alive
    assert postgres_processes(tmp_path), "pg_ctl's server outlives a killed `up`"

    again = start_up(tmp_path, http_port, grpc_port, workers=1)
    try:
        printed = "\n".join(wait_for_line(again, "ready", within=90))
        assert f"(pid {first.pid}) did not stop cleanly" in printed
        assert "taking over the Postgres left running there" in printed
        old = httpx.get(f"{base}/v1/jobs/{job['id']}").json()
        assert old["status"] == "done", "the data of the killed instance is all there"
    finally:
        out = _stop(again)
    assert "stopped." in out
    # Its server processes may take a moment to exit after pg_ctl returns on a busy machine.
    _gone, alive = psutil.wait_procs(postgres_processes(tmp_path), timeout=30)
    assert not alive, "the taken-over Postgres is stopped with its owner"
