"""Core's settings, from the environment (names as in .env.example)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class CoreSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

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
    # Jobs one device runs at once (routing never exceeds it; the dashboard shows running/limit).
    device_max_concurrency: int = Field(1, ge=1, le=256)
