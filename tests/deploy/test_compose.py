"""compose.yml and the Dockerfile, validated statically (no Docker engine here): the file is
what `docker-compose config` accepts, and it deploys what the docs promise."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from pydantic import ValidationError

from core.runtime import RunningCore
from core.settings import CoreSettings
from llm_mcp.healthcheck import health_url
from llm_mcp.pgcluster import free_port
from testkit.support import apt_tool

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"postgres", "llmcore", "llmworker", "llmmcp", "llmtelemetry"}
OURS = SERVICES - {"postgres"}


@pytest.fixture(scope="session")
def docker_compose() -> str:
    """Debian's docker-compose, installed with apt-get when missing; skipped when it cannot be
    had (the tests using it are marked `external`)."""
    return apt_tool("docker-compose", "docker-compose")


def compose_config(
    docker_compose: str, tmp_path: Path, *extra: str, env: str = ""
) -> dict[str, Any]:
    """`docker-compose config` on a copy of the project with .env made from .env.example."""
    shutil.copy(ROOT / "compose.yml", tmp_path / "compose.yml")
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text() + env)
    shutil.copytree(ROOT / "db" / "init", tmp_path / "db" / "init", dirs_exist_ok=True)
    clean_env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    run = subprocess.run(
        [docker_compose, "-f", "compose.yml", *extra, "config"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env,
    )
    assert run.returncode == 0, f"docker-compose config refused compose.yml:\n{run.stderr}"
    return yaml.safe_load(run.stdout)


@pytest.fixture
def config(docker_compose: str, tmp_path: Path) -> dict[str, Any]:
    return compose_config(docker_compose, tmp_path, "--profile", "telemetry")["services"]


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yml").read_text())["services"]


def published(service: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(host address, host port, container port) of each published port."""
    out = []
    for port in service.get("ports", []):
        host, host_port, container = str(port).split(":")
        out.append((host, host_port, container.split("/")[0]))
    return out


@pytest.mark.external
def test_the_services_the_seed_names(config: dict[str, Any], raw: dict[str, Any]) -> None:
    assert set(config) == SERVICES
    assert raw["llmtelemetry"]["profiles"] == ["telemetry"]
    for name in OURS:
        assert config[name]["image"] == "llm-mcp:latest"
        assert raw[name]["env_file"] == ".env"
    assert {name: config[name]["command"] for name in OURS} == {
        "llmcore": ["core"],
        "llmworker": ["worker"],
        "llmmcp": ["bridge"],
        "llmtelemetry": ["telemetry"],
    }
    assert all(config[name]["restart"] == "unless-stopped" for name in SERVICES)


@pytest.mark.external
def test_ports_are_published_on_loopback_only(config: dict[str, Any]) -> None:
    assert published(config["llmcore"]) == [
        ("127.0.0.1", "8080", "8080"),
        ("127.0.0.1", "9090", "9090"),
    ]
    assert published(config["llmmcp"]) == [("127.0.0.1", "3333", "3333")]
    for name in SERVICES - {"llmcore", "llmmcp"}:
        assert not config[name].get("ports"), name


@pytest.mark.external
def test_publish_address_and_ports_come_from_env(docker_compose: str, tmp_path: Path) -> None:
    services = compose_config(
        docker_compose, tmp_path, env="PUBLISH_ADDR=0.0.0.0\nHTTP_PORT=18080\n"
    )["services"]
    assert ("0.0.0.0", "18080", "8080") in published(services["llmcore"])
    # Inside the container core still listens where the mapping points.
    assert services["llmcore"]["environment"]["HTTP_PORT"] == "8080"


@pytest.mark.external
def test_postgres_schema_volume_and_health(config: dict[str, Any]) -> None:
    pg = config["postgres"]
    assert pg["image"].startswith("postgres:")
    volumes = [str(v) for v in pg["volumes"]]
    assert any(v.endswith("/db/init:/docker-entrypoint-initdb.d:ro") for v in volumes), volumes
    assert any(v.startswith("pgdata:/var/lib/postgresql/data") for v in volumes), volumes
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    assert config["llmcore"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    dsn = config["llmcore"]["environment"]["DATABASE_URL"]
    assert dsn == "postgresql://llm:change-me@postgres:5432/llm_mcp"


@pytest.mark.external
def test_healthchecks(config: dict[str, Any]) -> None:
    assert config["llmcore"]["healthcheck"]["test"][-2:] == ["llm_mcp.healthcheck", "core"]
    assert config["llmmcp"]["healthcheck"]["test"][-2:] == ["llm_mcp.healthcheck", "bridge"]
    # No port to probe: a worker or telemetry container is healthy while it runs.
    assert config["llmworker"]["healthcheck"]["test"] == ["NONE"]
    assert config["llmtelemetry"]["healthcheck"]["test"] == ["NONE"]
    for name in ("llmworker", "llmmcp", "llmtelemetry"):
        assert config[name]["depends_on"]["llmcore"]["condition"] == "service_healthy"


@pytest.mark.external
def test_worker_scales_and_reaches_the_hosts_ollama(config: dict[str, Any]) -> None:
    worker = config["llmworker"]
    assert "container_name" not in worker and "ports" not in worker
    assert "host.docker.internal:host-gateway" in worker["extra_hosts"]
    assert worker["environment"]["OLLAMA_BASE_URL"] == "http://host.docker.internal:11434"
    assert worker["environment"]["CORE_GRPC_ADDR"] == "llmcore:9090"
    assert not any("container_name" in s for s in config.values())


@pytest.mark.external
def test_tailscale_is_mounted_into_core_from_variables(docker_compose: str, tmp_path: Path) -> None:
    env = "TAILSCALE_HOST_BIN=/opt/ts/tailscale\nTAILSCALE_HOST_SOCKET=/run/ts.sock\n"
    core = compose_config(docker_compose, tmp_path, env=env)["services"]["llmcore"]
    volumes = [str(v) for v in core["volumes"]]
    assert "/opt/ts/tailscale:/usr/local/bin/tailscale:ro" in volumes
    assert any(v.startswith("/run/ts.sock:/var/run/tailscale/tailscaled.sock") for v in volumes)
    assert core["environment"]["TAILSCALE_BIN"] == "/usr/local/bin/tailscale"
    assert core["environment"]["TAILSCALE_SOCKET"] == "/var/run/tailscale/tailscaled.sock"


@pytest.mark.external
def test_bridge_is_guarded_off_loopback(config: dict[str, Any]) -> None:
    from mcp_bridge.settings import BridgeSettings

    env = config["llmmcp"]["environment"]
    assert env["MCP_HOST"] == "0.0.0.0" and env["CORE_GRPC_ADDR"] == "llmcore:9090"
    # The settings compose gives it pass the bridge's own off-loopback check.
    settings = BridgeSettings(**{k.lower(): v for k, v in env.items() if k.startswith("MCP_")})
    assert settings.bridge_token and "llmmcp:*" in settings.host_allow_list()


@pytest.mark.external
@pytest.mark.slow
def test_compose_core_starts_with_defaults_and_not_when_published_widely(
    docker_compose: str, tmp_path: Path
) -> None:
    def core_env(env: str) -> dict[str, str]:
        config = compose_config(docker_compose, tmp_path, env=env)
        merged = config["services"]["llmcore"]["environment"]
        return {k.lower(): v for k, v in merged.items() if v is not None}

    assert CoreSettings(**core_env(""))  # `docker compose up` with .env.example as it is
    with pytest.raises(ValidationError, match=r"PUBLISH_ADDR=0\.0\.0\.0"):
        CoreSettings(**core_env("PUBLISH_ADDR=0.0.0.0\n"))
    tokens = "PUBLISH_ADDR=0.0.0.0\nAPI_TOKEN=client-secret\nWORKER_TOKEN=worker-secret\n"
    assert CoreSettings(**core_env(tokens))


def test_dockerfile_is_one_slim_non_root_image() -> None:
    text = (ROOT / "Dockerfile").read_text()
    froms = [line.split()[1] for line in text.splitlines() if line.startswith("FROM ")]
    assert len(froms) == 2 and all(f.startswith("python:3.11-slim") for f in froms)
    assert "USER llm" in text and "useradd" in text
    assert "pip wheel" in text and "--no-index" in text and "pip uninstall -y pip" in text
    healthcheck = next(line for line in text.splitlines() if "CMD" in line and "health" in line)
    assert "curl" not in healthcheck and "llm_mcp.healthcheck" in healthcheck
    assert 'ENTRYPOINT ["llm-mcp"]' in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", ".env"} <= set(ignored)


def test_health_url_follows_the_service() -> None:
    env = {"HTTP_PORT": "8181", "MCP_PORT": ""}
    assert health_url(["llm-mcp", "core"], env) == "http://127.0.0.1:8181/health"
    assert health_url(["/usr/local/bin/llm-mcp", "bridge"], env) == "http://127.0.0.1:3333/health"
    assert health_url(["llm-mcp", "bridge", "--stdio"], env) is None
    assert health_url(["llm-mcp", "worker"], env) is None
    assert health_url(["llm-mcp", "telemetry"], env) is None


async def _healthcheck(*args: str, **env: str) -> int:
    # A subprocess the event loop waits for: core runs in this loop and must keep answering.
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "llm_mcp.healthcheck",
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await asyncio.wait_for(proc.wait(), 30)


async def test_healthcheck_probes_a_real_core(core: RunningCore) -> None:
    port = httpx.URL(core.http_url).port
    assert await _healthcheck("core", HTTP_PORT=str(port)) == 0
    assert await _healthcheck("core", HTTP_PORT=str(free_port())) == 1
    assert await _healthcheck("worker") == 0
