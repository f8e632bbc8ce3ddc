"""Plain data the fleet's pure functions and stores pass around."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class TailnetNode:
    """One node of `tailscale status --json` (Self or a Peer)."""

    id: str  # DNS name with its trailing dot, else the host name
    name: str  # DNS name's first label, else the host name
    host_name: str
    dns_name: str | None
    ips: tuple[str, ...]
    os: str | None
    online: bool
    last_seen: datetime | None
    tags: tuple[str, ...]
    is_self: bool = False

    @property
    def ipv4(self) -> str | None:
        return next((ip for ip in self.ips if ":" not in ip), None)

    @property
    def url_host(self) -> str | None:
        """The address to reach it by in a URL: the first IPv4, else the first IPv6 in []."""
        if self.ipv4:
            return self.ipv4
        return f"[{self.ips[0]}]" if self.ips else None


@dataclass(frozen=True)
class ProbeTarget:
    """One (node, port) to probe; a port other than the first is its own device `<id>:<port>`."""

    device_id: str
    base_device_id: str | None
    node: TailnetNode
    port: int
    base_url: str  # http://<first IPv4>:<port> (http://[<IPv6>]:<port> without an IPv4)
    host: str  # the payload's ollama_host: the DNS name without its dot, else the host


@dataclass(frozen=True)
class OllamaModel:
    """A model as /api/tags lists it (context_length from /api/show, when asked)."""

    name: str
    size_bytes: int | None
    family: str | None
    parameter_size: str | None
    params_b: float | None
    quantization: str | None
    context_length: int | None = None


@dataclass(frozen=True)
class OllamaProbe:
    """What one probe of one target found; `error` set means Ollama did not answer properly."""

    target: ProbeTarget
    version: str | None = None
    latency_ms: float | None = None
    models: tuple[OllamaModel, ...] = ()
    error: str | None = None
    refused: bool = False  # nothing listens there: normal for a node without Ollama

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class DiscoverySummary:
    """What a discovery round did; stored in discovery_runs.summary and returned by the API."""

    devices_seen: int = 0
    online: int = 0
    with_ollama: int = 0
    models_added: list[dict[str, str]] = field(default_factory=list)
    models_removed: list[dict[str, str]] = field(default_factory=list)
    came_back: list[str] = field(default_factory=list)
    went_offline: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    error: str | None = None  # the round could not run (tailscale missing, ...)
    # Why the tailnet was not read, when the configured Ollama was probed all the same.
    tailnet: str | None = None
    duration_ms: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.error is None,
            "error": self.error,
            "devices_seen": self.devices_seen,
            "online": self.online,
            "with_ollama": self.with_ollama,
            "models_added": self.models_added,
            "models_removed": self.models_removed,
            "came_back": self.came_back,
            "went_offline": self.went_offline,
            "errors": self.errors,
            "tailnet": self.tailnet,
            "duration_ms": self.duration_ms,
        }
