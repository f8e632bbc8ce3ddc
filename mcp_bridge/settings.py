"""The bridge's settings, from the environment (names as in .env.example)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from serving.listen import is_loopback

LOOPBACK_HOSTS = ["127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost", "[::1]"]
LOOPBACK_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]


class BridgeSettings(BaseSettings):
    # Empty variables (as an .env file copied from .env.example has) mean "use the default".
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, env_ignore_empty=True)

    mcp_host: str = "127.0.0.1"
    mcp_port: int = Field(3333, ge=0, le=65535)
    core_grpc_addr: str = "127.0.0.1:9090"
    # Sent to core on every RPC (core's client token).
    api_token: SecretStr | None = None
    # Bearer token MCP/HTTP clients must send to the bridge; required off loopback.
    mcp_bridge_token: SecretStr | None = None
    # Host header values (`name`, `name:port` or `name:*`); required off loopback.
    mcp_allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Origin header values (`https://app.example`, `http://name:*`); required off loopback.
    mcp_allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Seconds one RPC to core may take before the bridge reports core unavailable.
    mcp_core_timeout: float = Field(30.0, gt=0, le=600)

    @field_validator("mcp_allowed_hosts", "mcp_allowed_origins", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @model_validator(mode="after")
    def _exposure_is_guarded(self) -> BridgeSettings:
        # The MCP spec asks for Origin checks and authentication once a server leaves loopback.
        if is_loopback(self.mcp_host):
            return self
        missing = [
            name
            for name, value in (
                ("MCP_BRIDGE_TOKEN", self.mcp_bridge_token),
                ("MCP_ALLOWED_HOSTS", self.mcp_allowed_hosts),
                ("MCP_ALLOWED_ORIGINS", self.mcp_allowed_origins),
            )
            if not value
        ]
        if missing:
            raise ValueError(
                f"MCP_HOST={self.mcp_host} is not a loopback address, so the bridge needs "
                f"{', '.join(missing)} (a bearer token and Host/Origin allow-lists) before it "
                "will listen there"
            )
        return self

    @property
    def bridge_token(self) -> str | None:
        return self.mcp_bridge_token.get_secret_value() if self.mcp_bridge_token else None

    @property
    def core_token(self) -> str | None:
        return self.api_token.get_secret_value() if self.api_token else None

    def _own_loopback_name(self) -> str | None:
        """MCP_HOST as a Host-header name when it is a loopback address beyond the usual
        three (127.0.0.42, say): clients, and `llm-mcp up`'s own probe, send it."""
        host = self.mcp_host
        if not is_loopback(host) or host in ("127.0.0.1", "localhost", "::1", "[::1]"):
            return None
        return f"[{host.strip('[]')}]" if ":" in host else host

    def host_allow_list(self) -> list[str]:
        """MCP_ALLOWED_HOSTS, else the loopback names and the loopback address we listen on."""
        if self.mcp_allowed_hosts:
            return self.mcp_allowed_hosts
        own = self._own_loopback_name()
        return LOOPBACK_HOSTS + ([f"{own}:*", own] if own else [])

    def origin_allow_list(self) -> list[str]:
        if self.mcp_allowed_origins:
            return self.mcp_allowed_origins
        own = self._own_loopback_name()
        return LOOPBACK_ORIGINS + ([f"http://{own}:*"] if own else [])
