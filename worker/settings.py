"""Worker settings, from the environment (names as in .env.example)."""

from __future__ import annotations

import socket
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class WorkerSettings(BaseSettings):
    # Empty variables (as an .env file copied from .env.example has) mean "use the default".
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, env_ignore_empty=True)

    core_grpc_addr: str = "127.0.0.1:9090"
    worker_id: str = Field(
        default_factory=socket.gethostname, pattern=r"^[A-Za-z0-9_.:@/-]{1,200}$"
    )
    # Empty = every kind this worker can run; otherwise only these (comma-separated).
    worker_kinds: Annotated[list[str], NoDecode] = Field(default_factory=list)
    worker_lease_seconds: int = Field(60, ge=3, le=3600)
    worker_concurrency: int = Field(64, ge=1, le=256)
    worker_claim_wait: float = Field(20.0, gt=0, le=60)
    worker_shutdown_grace: float = Field(30.0, ge=0)
    worker_token: SecretStr | None = None
    api_token: SecretStr | None = None

    # Providers. A cloud kind is offered only when its key is set.
    ollama_base_url: str = "http://127.0.0.1:11434"
    ollama_model: str = "llama3.2:1b"
    ollama_embed_model: str = "nomic-embed-text"
    openai_api_key: SecretStr | None = None
    openai_base_url: str = "https://api.openai.com/v1"
    openai_model: str = "gpt-4o-mini"
    openrouter_api_key: SecretStr | None = None
    openrouter_base_url: str = "https://openrouter.ai/api/v1"
    openrouter_model: str = "google/gemini-2.0-flash"
    provider_timeout_seconds: float = Field(300.0, gt=0, le=3600)
    provider_connect_timeout: float = Field(5.0, gt=0, le=120)
    # Streamed tokens go to core at most this often (seconds); the first chunk at once.
    worker_progress_interval: float = Field(0.05, ge=0, le=5)

    @field_validator("worker_kinds", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [k.strip() for k in value.split(",") if k.strip()]
        return value

    @property
    def token(self) -> str | None:
        secret = self.worker_token or self.api_token
        return secret.get_secret_value() if secret else None
