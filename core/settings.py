"""Core's settings, from the environment (names as in .env.example)."""

from __future__ import annotations

import logging
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.fleet.targets import configured_target, parse_ports
from serving.listen import is_loopback

log = logging.getLogger(__name__)

OPEN_BIND_OPT_OUT = "INSECURE_NO_TOKENS_OFF_LOOPBACK"


class CoreSettings(BaseSettings):
    # Empty variables (as an .env file copied from .env.example has) mean "use the default".
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, env_ignore_empty=True)

    database_url: str = Field(description="Postgres DSN, e.g. postgresql://user:pw@host:5432/db")
    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=0, le=65535)
    grpc_host: str = "127.0.0.1"
    grpc_port: int = Field(9090, ge=0, le=65535)

    api_token: SecretStr | None = None
    worker_token: SecretStr | None = None
    # Web origins whose pages may call core from a browser (comma-separated; empty = none).
    cors_allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # The opt-out: listen beyond loopback without tokens, for a network only trusted parties
    # reach (compose's container network, whose ports are published on the host's loopback).
    insecure_no_tokens_off_loopback: bool = False
    # The host address compose publishes core's ports on; beyond loopback the opt-out is void.
    publish_addr: str | None = None

    @model_validator(mode="after")
    def _open_only_with_tokens(self) -> CoreSettings:
        exposed = [
            f"{name}={host}"
            for name, host in (("HTTP_HOST", self.http_host), ("GRPC_HOST", self.grpc_host))
            if not is_loopback(host)
        ]
        missing = [
            name
            for name, value in (("API_TOKEN", self.api_token), ("WORKER_TOKEN", self.worker_token))
            if not value
        ]
        if not exposed or not missing:
            return self
        published = self.publish_addr is None or is_loopback(self.publish_addr)
        if self.insecure_no_tokens_off_loopback and published:
            log.warning(
                "%s=1: core listens on %s without %s; only trusted parties must reach it",
                OPEN_BIND_OPT_OUT,
                ", ".join(exposed),
                " and ".join(missing),
            )
            return self
        if not published:
            raise ValueError(
                f"PUBLISH_ADDR={self.publish_addr} publishes core beyond this host, so core "
                f"needs {' and '.join(missing)} ({OPEN_BIND_OPT_OUT} covers loopback "
                "publishing only)"
            )
        raise ValueError(
            f"{' and '.join(exposed)} is not a loopback address, so core needs "
            f"{' and '.join(missing)} before it listens there (anyone who reaches the port "
            f"could run jobs and act as a worker); on a network only trusted parties reach, "
            f"{OPEN_BIND_OPT_OUT}=1 lifts this"
        )

    @field_validator("cors_allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    db_pool_size: int = Field(10, ge=1, le=200)
    max_body_bytes: int = Field(1024 * 1024, ge=1024)

    sweep_interval: float = Field(1.0, gt=0)
    job_retention_days: float = Field(7.0, gt=0)
    retention_interval: float = Field(300.0, gt=0)
    retry_base_seconds: float = Field(1.0, ge=0)
    retry_cap_seconds: float = Field(300.0, ge=0)
    sse_ping_seconds: float = Field(15.0, gt=0)
    worker_live_seconds: float = Field(90.0, gt=0)
    # On SIGTERM: seconds to finish in-flight requests before exiting (streams are handed back
    # at once). Keep it below the orchestrator's kill timeout.
    shutdown_grace_seconds: float = Field(10.0, ge=0, le=3600)

    # Discovery (core/fleet): tailnet devices and their Ollama models.
    tailscale_bin: str = "tailscale"
    # Empty = no --socket: the CLI's own default (/var/run/tailscale/tailscaled.sock on Linux).
    tailscale_socket: str = ""
    ollama_ports: str = "11434"
    discovery_interval: float = Field(60.0, ge=0)
    discovery_probe_timeout: float = Field(2.0, gt=0, le=60)
    # The local Ollama (the one workers use by default): a device of the fleet when set.
    ollama_base_url: str | None = None

    @property
    def tailscale_socket_path(self) -> str | None:
        return self.tailscale_socket or None

    @field_validator("ollama_ports")
    @classmethod
    def _valid_ports(cls, value: str) -> str:
        parse_ports(value)
        return value

    @field_validator("ollama_base_url")
    @classmethod
    def _valid_ollama_url(cls, value: str | None) -> str | None:
        if value:
            configured_target(value, (11434,))
        return value

    # Routing, device limits and defaults.
    device_max_concurrency: int = Field(1, ge=1, le=1000)
    device_limits_json: str | None = None
    device_limits_file: str | None = None
    device_limits_interval: float = Field(0.0, ge=0)
    strict_model_limits: bool = False
    ollama_model: str = "llama3.2:1b"
    ollama_embed_model: str = "nomic-embed-text"
    openai_model: str = "gpt-4o-mini"
    openrouter_model: str = "google/gemini-2.0-flash"

    # Failover and costs.
    breaker_failures: int = Field(3, ge=1, le=1000)
    breaker_cooldown_seconds: float = Field(30.0, gt=0, le=86400)
    model_pricing_file: str | None = None
