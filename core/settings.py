"""Core's settings, from the environment (names as in .env.example)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.fleet.targets import parse_ports


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
    tailscale_socket: str = "/var/run/tailscale/tailscaled.sock"
    ollama_ports: str = "11434"
    discovery_interval: float = Field(60.0, ge=0)
    discovery_probe_timeout: float = Field(2.0, gt=0, le=60)

    @field_validator("ollama_ports")
    @classmethod
    def _valid_ports(cls, value: str) -> str:
        parse_ports(value)
        return value

    # Routing, device limits and defaults (issue 3).
    device_max_concurrency: int = Field(1, ge=1, le=1000)
    device_limits_json: str | None = None
    device_limits_file: str | None = None
    device_limits_interval: float = Field(0.0, ge=0)
    strict_model_limits: bool = False
    ollama_model: str = "llama3.2:1b"
    ollama_embed_model: str = "nomic-embed-text"
    openai_model: str = "gpt-4o-mini"
    openrouter_model: str = "google/gemini-2.0-flash"

    # Failover and costs (issue 8).
    breaker_failures: int = Field(3, ge=1, le=1000)
    breaker_cooldown_seconds: float = Field(30.0, gt=0, le=86400)
    model_pricing_file: str | None = None
