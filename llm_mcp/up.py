"""`llm-mcp up`: core, workers, the MCP bridge and telemetry (when configured) in one process tree.

With no DATABASE_URL, a private Postgres runs from a data directory that is
kept between runs. Ctrl-C or SIGTERM stops every child, then Postgres.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from llm_mcp.instance_lock import DataDirBusy, Holder, InstanceLock
from llm_mcp.pgcluster import LocalPostgres
from llm_mcp.provider_probe import provider_lines, workers_ollama_url
from llm_mcp.up_database import as_root_line, busy_message, embedded_postgres
from serving.data_dir import default_data_dir


def _die_with_parent() -> None:
    # Linux: the child gets SIGTERM if `llm-mcp up` itself dies, so nothing is orphaned.
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


@dataclass
class Supervisor:
    children: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llm_mcp", *args],
            env={**os.environ, **env},
            start_new_session=True,  # Ctrl-C reaches us only; we stop children in order
            preexec_fn=_die_with_parent,
        )
        self.children.append((name, proc))

    def first_exited(self) -> tuple[str, int] | None:
        for name, proc in self.children:
            if proc.poll() is not None:
                return name, proc.returncode
        return None

    def stop_all(self, grace: float = 40.0) -> None:
        # Workers first (they hand back their jobs to core), then the rest.
        for name, proc in sorted(self.children, key=lambda c: not c[0].startswith("worker")):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            if name.startswith("worker"):
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=grace)
        deadline = time.monotonic() + grace
        for _name, proc in self.children:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_healthy(url: str, sup: Supervisor, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if exited := sup.first_exited():
            raise RuntimeError(f"{exited[0]} exited with code {exited[1]} during start-up")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not become healthy within {timeout:.0f}s")


def telemetry_configured() -> bool:
    """Whether Telegram is configured in this environment (a broken config counts: the
    telemetry child then reports it by name and `up` stops)."""
    from pydantic import ValidationError

    from telemetry.settings import TelemetrySettings

    try:
        return TelemetrySettings().configured
    except ValidationError:
        return True


def _telemetry_exited(sup: Supervisor, code: int, started_at: float, env: dict[str, str]) -> float:
    """Telemetry is not vital: restarted when it had run a while, dropped (the rest keeps
    running) when it failed at start-up, e.g. on bad Telegram settings. Returns its start."""
    sup.children = [c for c in sup.children if c[0] != "telemetry"]
    if time.monotonic() - started_at < 10:
        print(
            f"llm-mcp: telemetry exited with code {code} at start-up; running without it",
            file=sys.stderr,
        )
        return started_at
    print(f"llm-mcp: telemetry exited with code {code}; restarting it", file=sys.stderr)
    sup.spawn("telemetry", ["telemetry"], env)
    return time.monotonic()


def run_up(
    *,
    workers: int,
    host: str,
    http_port: int,
    grpc_port: int,
    data_dir: Path | None,
    bridge_port: int = 3333,
) -> int:
    """Runs everything until SIGINT/SIGTERM; returns the exit code. With no DATABASE_URL it
    owns its data dir for its whole life: a second `up` on the same dir is refused at once."""
    data = (data_dir or default_data_dir()).resolve()
    lock: InstanceLock | None = None
    killed: Holder | None = None
    if not os.environ.get("DATABASE_URL"):
        lock = InstanceLock(data)
        try:
            killed = lock.acquire()
        except DataDirBusy as exc:
            print(busy_message(exc, http_port), file=sys.stderr)
            return 2
    try:
        return _run(
            workers=workers,
            host=host,
            http_port=http_port,
            grpc_port=grpc_port,
            bridge_port=bridge_port,
            data=data,
            lock=lock,
            killed=killed,
        )
    finally:
        if lock is not None:
            lock.release()


def _run(
    *,
    workers: int,
    host: str,
    http_port: int,
    grpc_port: int,
    bridge_port: int,
    data: Path,
    lock: InstanceLock | None,
    killed: Holder | None,
) -> int:
    for port, what, flag in (
        (http_port, "HTTP", "--http-port"),
        (grpc_port, "gRPC", "--grpc-port"),
        (bridge_port, "MCP bridge", "--bridge-port"),
    ):
        if not port_free(host, port):
            print(
                f"llm-mcp: port {port} ({what}) on {host} is taken; choose another with {flag}",
                file=sys.stderr,
            )
            return 2
    stopping = False

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)

    # Only a Postgres this process started (or took over under the lock) is ever stopped.
    postgres: LocalPostgres | None = None
    database_url = os.environ.get("DATABASE_URL", "")
    http_url = f"http://{host}:{http_port}"
    bridge_url = f"http://{host}:{bridge_port}"
    sup = Supervisor()
    code = 0
    try:
        if lock is not None:
            postgres, database_url = embedded_postgres(data, killed)
            lock.record(
                Holder(os.getpid(), http_url, f"{host}:{grpc_port}", bridge_url, database_url)
            )
            print(
                f"llm-mcp: Postgres     {database_url}  (data in {postgres.data_dir})", flush=True
            )
            if line := as_root_line(postgres):
                print(line, flush=True)
        else:
            print(
                "llm-mcp: Postgres     DATABASE_URL from the environment "
                "(unset it to use the embedded one)",
                flush=True,
            )
        core_env = {
            "DATABASE_URL": database_url,
            # The Ollama the workers call is a device of the fleet: its models are listed
            # and routed to without Tailscale.
            "OLLAMA_BASE_URL": workers_ollama_url(),
            "HTTP_HOST": host,
            "HTTP_PORT": str(http_port),
            "GRPC_HOST": host,
            "GRPC_PORT": str(grpc_port),
        }
        sup.spawn("core", ["core"], core_env)
        _wait_healthy(f"{http_url}/health", sup)
        hostname = socket.gethostname()
        for i in range(1, workers + 1):
            sup.spawn(
                f"worker-{i}",
                ["worker"],
                {
                    "CORE_GRPC_ADDR": f"{host}:{grpc_port}",
                    "WORKER_ID": os.environ.get("WORKER_ID", hostname) + f"-{i}",
                },
            )
        sup.spawn(
            "bridge",
            ["bridge"],
            {
                "CORE_GRPC_ADDR": f"{host}:{grpc_port}",
                "MCP_HOST": host,
                "MCP_PORT": str(bridge_port),
            },
        )
        _wait_healthy(f"{bridge_url}/health", sup)
        telemetry = telemetry_configured()
        telemetry_env = {"CORE_GRPC_ADDR": f"{host}:{grpc_port}"}
        if not os.environ.get("TELEGRAM_STATE_FILE"):
            data.mkdir(parents=True, exist_ok=True)
            telemetry_env["TELEGRAM_STATE_FILE"] = str(data / "telemetry-state.json")
        telemetry_started = time.monotonic()
        if telemetry:
            sup.spawn("telemetry", ["telemetry"], telemetry_env)
        print(f"llm-mcp: core HTTP    {http_url}  (API docs {http_url}/docs)", flush=True)
        print(f"llm-mcp: dashboard    {http_url}/ui/", flush=True)
        print(f"llm-mcp: core gRPC    {host}:{grpc_port}", flush=True)
        print(f"llm-mcp: metrics      {http_url}/metrics", flush=True)
        print(f"llm-mcp: workers      {workers}", flush=True)
        print(f"llm-mcp: MCP bridge   {bridge_url}  (MCP endpoint {bridge_url}/mcp)", flush=True)
        shown = "on" if telemetry else "off (Telegram not configured)"
        print(f"llm-mcp: telemetry    {shown}", flush=True)
        for provider, answered in provider_lines():
            print(f"llm-mcp: {provider:<12} {answered}", flush=True)
        print("llm-mcp: ready. Ctrl-C stops everything.", flush=True)
        while not stopping:
            if (exited := sup.first_exited()) and exited[0] == "telemetry":
                telemetry_started = _telemetry_exited(
                    sup, exited[1], telemetry_started, telemetry_env
                )
            elif exited:
                print(
                    f"llm-mcp: {exited[0]} exited with code {exited[1]}; stopping", file=sys.stderr
                )
                code = 1
                break
            time.sleep(0.2)
    except (RuntimeError, OSError) as exc:
        print(f"llm-mcp: {exc}", file=sys.stderr)
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("llm-mcp: stopping…", flush=True)
        sup.stop_all()
        if postgres is not None:
            postgres.stop()
        print("llm-mcp: stopped.", flush=True)
    return code
