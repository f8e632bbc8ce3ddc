"""Telemetry settings, from the environment (names as in .env.example)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from serving.data_dir import default_data_dir

DEFAULT_GATEWAY_URL = "http://tgapi:8000"
# Older deployments named the gateway service telegram-api; tried once when the URL is implicit.
COMPAT_GATEWAY_URL = "http://telegram-api:8000"
DEFAULT_BOT_API_URL = "https://api.telegram.org/bot"


def _default_state_file() -> Path:
    return default_data_dir() / "telemetry-state.json"


class TelemetrySettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, env_ignore_empty=True)

    core_grpc_addr: str = "127.0.0.1:9090"
    api_token: SecretStr | None = None

    telegram_update_interval: float = Field(2.0, ge=0.01, le=3600)
    telegram_use_mcp: bool = False
    telegram_mcp_base_url: str | None = None
    telegram_mcp_bot_id: str | None = None
    telegram_mcp_chat_id: str | None = None
    telegram_mcp_fallback_direct: bool = False
    telegram_bot_token: SecretStr | None = None
    telegram_chat_id: str | None = None
    telegram_api_base_url: str = DEFAULT_BOT_API_URL
    telegram_request_timeout: float = Field(10.0, gt=0, le=120)
    telegram_state_file: Path = Field(default_factory=_default_state_file)

    telegram_alerts: bool = True
    telegram_stuck_seconds: float = Field(300.0, gt=0)
    telegram_fail_streak: int = Field(3, ge=1, le=20)
    telegram_alert_cooldown: float = Field(900.0, ge=0)

    @model_validator(mode="after")
    def _gateway_needs_a_chat(self) -> TelemetrySettings:
        if self.telegram_use_mcp and not self.gateway_chat_id:
            raise ValueError("TELEGRAM_USE_MCP=1 needs TELEGRAM_MCP_CHAT_ID (or TELEGRAM_CHAT_ID)")
        return self

    @property
    def gateway_chat_id(self) -> str | None:
        return self.telegram_mcp_chat_id or self.telegram_chat_id

    @property
    def gateway_url(self) -> str:
        return (self.telegram_mcp_base_url or DEFAULT_GATEWAY_URL).rstrip("/")

    @property
    def gateway_url_explicit(self) -> bool:
        return bool(self.telegram_mcp_base_url)

    @property
    def direct_configured(self) -> bool:
        """The Bot API route: a token and a chat, used alone, or as the gateway's fallback."""
        has_credentials = bool(self.telegram_bot_token and self.telegram_chat_id)
        return has_credentials and (self.telegram_mcp_fallback_direct or not self.telegram_use_mcp)

    @property
    def configured(self) -> bool:
        return self.telegram_use_mcp or self.direct_configured

    @property
    def core_token(self) -> str | None:
        return self.api_token.get_secret_value() if self.api_token else None
