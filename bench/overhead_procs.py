"""Processes of the benchmarks: start and stop them, read their CPU time from /proc, start a
LiteLLM proxy from its own venv, and name pg_stat_statements rows after our .sql queries."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from core.db.queries import load_queries
from llm_mcp.pgcluster import free_port

_TICK = os.sysconf("SC_CLK_TCK")
ROOT = Path(__file__).resolve().parent.parent
LITELLM_KEY = "sk-bench-only-not-a-secret"


@dataclass
class Proc:
    pid: int

    @classmethod
    def postgres(cls, data_dir: Path) -> Proc:
        return cls(int((data_dir / "postmaster.pid").read_text().split()[0]))

    @classmethod
    @contextlib.contextmanager
    def start(
        cls,
        args: list[str],
        env: dict[str, str],
        *,
        ready: str | None = None,
        health: str | None = None,
    ) -> Iterator[Proc]:
        out = subprocess.PIPE if ready else None
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=None, text=True, cwd=ROOT)
        try:
            if ready:
                assert proc.stdout is not None
                for line in proc.stdout:
                    if ready in line:
                        break
                else:
                    raise RuntimeError(f"{args} exited before it was ready")
            if health:
                _wait_http(health, proc)
            yield cls(proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_http(url: str, proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code < 500:
                return
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields from 3 (state) on


def cpu_seconds(proc: Proc) -> float:
    """CPU time of the process, its reaped children and its live descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))):
            children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo, first = 0, [proc.pid], True
    while todo:
        pid = todo.pop()
        fields = _stat(pid)
        if fields is None:
            continue
        # utime, stime (fields 14, 15); of the root also cutime, cstime (its reaped children).
        total += int(fields[11]) + int(fields[12])
        if first:
            total += int(fields[13]) + int(fields[14])
            first = False
        todo.extend(children.get(pid, ()))
    return total / _TICK


def rss_mb(proc: Proc) -> float:
    """Resident memory of the process itself (not its children), in MB; 0 when it is gone."""
    try:
        with open(f"/proc/{proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def load_avg() -> float:
    return os.getloadavg()[0]


# What pg_stat_statements may turn into $n: parameters, literals, `epoch` in extract().
_CONSTANT = re.compile(r"\$\d+|'[^']*'|\b(?:epoch|true|false|null|\d+)\b", re.I)


def _normal(sql: str) -> str:
    """Without comments, blank runs and constants (pg_stat_statements keeps the statement with
    its constants as $n)."""
    lines = (line.split("--", 1)[0] for line in sql.splitlines())
    return _CONSTANT.sub("?", " ".join(" ".join(lines).split()).rstrip(";"))


def named_queries() -> dict[str, str]:
    """{normalised sql text: query name} of every .sql file under core/."""
    names: dict[str, str] = {}
    for path in (ROOT / "core").rglob("*.sql"):
        names.update({_normal(sql): name for name, sql in load_queries(path).items()})
    return names


def name_of(names: dict[str, str], sql: str) -> str:
    """The query's name, or its first words (BEGIN, COMMIT, SQL written inline)."""
    return names.get(_normal(sql)) or " ".join(sql.split())[:28]


@contextlib.contextmanager
def litellm_proxy(
    binary: str, fake: str, model: str, tmp: Path, env: dict[str, str]
) -> Iterator[tuple[str, Proc]]:
    """A LiteLLM proxy (one worker) whose model `model` is the fake Ollama's."""
    config = tmp / "litellm.yaml"
    config.write_text(
        "model_list:\n"
        f"  - model_name: {model}\n"
        "    litellm_params:\n"
        f"      model: ollama_chat/{model}\n"
        f"      api_base: {fake}\n"
        "litellm_settings:\n"
        "  telemetry: false\n"
    )
    port = free_port()
    # Offline: the model price list from the package, no telemetry, no database.
    quiet = {
        "LITELLM_MASTER_KEY": LITELLM_KEY,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_TELEMETRY": "False",
        "LITELLM_LOG": "ERROR",
    }
    args = [
        binary,
        "--config",
        str(config),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--num_workers",
        "1",
    ]
    url = f"http://127.0.0.1:{port}"
    with Proc.start(args, {**env, **quiet}, health=f"{url}/health/liveliness") as proc:
        yield url, proc
