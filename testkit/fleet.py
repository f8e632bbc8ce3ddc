"""The fleet as tests set it up: device, limit and stats rows written as discovery would
(plain SQL through `db`), and a fake tailnet for discovery (the fake tailscale CLI plus fake
Ollama servers).

The fake tailnet's layout (P, P2 = two ports free on every alias; OLLAMA_PORTS="P,P2"):
- Self  core-box.tail1234.ts.net.   127.0.0.2  Ollama on P and on P2 (a port device)
- Peer  gpu-a.tail1234.ts.net.      127.0.0.3  Ollama on P
- Peer  pixel-7 (no DNS name)       127.0.0.4  no Ollama (connections refused)
- Peer  old-laptop.tail1234.ts.net. 127.0.0.6  offline
- Peer  stuck.tail1234.ts.net.      127.0.0.5  accepts and never answers (only when added)
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from testkit.fakes.ollama import FakeOllama, tag
from testkit.fakes.server import HangingServer, common_ports
from testkit.fakes.tailnet import FAKE_TAILSCALE, node, status, write_status

BOX = "core-box.tail1234.ts.net."
GPU = "gpu-a.tail1234.ts.net."
PHONE = "pixel-7"
OLD = "old-laptop.tail1234.ts.net."
STUCK = "stuck.tail1234.ts.net."
IPS = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"]
# The Ollama release the tailnet's fakes report.
OLLAMA_VERSION = "0.5.7"

LLAMA_1B = tag("llama3.2:1b", 1321098329, "llama", "1.2B", "Q8_0")
EMBED = tag("nomic-embed-text:latest", 274302450, "nomic-bert", "137M", "F16")
QWEN_05 = tag("qwen2.5:0.5b", 397821319, "qwen2", "494.03M", "Q4_K_M")
QWEN_7B = tag("qwen2.5:7b", 4683087332, "qwen2", "7.6B", "Q4_K_M")


async def add_device(
    db: asyncpg.Connection,
    device_id: str,
    addr: str,
    models: dict[str, float | None] | None = None,
    *,
    online: bool = True,
    host: str | None = None,
) -> None:
    """A device with an Ollama at `addr` holding `models` ({name: params_b})."""
    await db.execute(
        "INSERT INTO devices (id, online, ollama_addr, ollama_host) VALUES ($1, $2, $3, $4)",
        device_id,
        online,
        addr,
        host,
    )
    for name, params_b in (models if models is not None else {"llama3.2:1b": 1.2}).items():
        await db.execute(
            "INSERT INTO models (name, params_b) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            name,
            params_b,
        )
        await db.execute(
            "INSERT INTO device_models (device_id, model) VALUES ($1, $2)", device_id, name
        )


async def set_stats(
    db: asyncpg.Connection, device_id: str, model: str, *, tps: float, latency_ms: float
) -> None:
    await db.execute(
        "INSERT INTO device_model_stats (device_id, model, samples, tps, latency_ms) "
        "VALUES ($1, $2, 5, $3, $4)",
        device_id,
        model,
        tps,
        latency_ms,
    )


async def set_limits(db: asyncpg.Connection, device_id: str, **fields: object) -> None:
    columns = ", ".join(["device_id", *fields])
    marks = ", ".join(f"${i}" for i in range(1, len(fields) + 2))
    await db.execute(
        f"INSERT INTO device_limits ({columns}) VALUES ({marks})", device_id, *fields.values()
    )


@dataclass
class FakeTailnet:
    status_path: Path
    socket_path: Path
    argv_log: Path
    port: int
    port2: int
    box: FakeOllama
    box2: FakeOllama
    gpu: FakeOllama
    hanging: HangingServer
    self_node: dict[str, Any]
    peers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def write(self) -> None:
        """Publishes the current nodes to the fake tailscale CLI."""
        write_status(self.status_path, status(self.self_node, list(self.peers.values())))

    def add_stuck_peer(self) -> None:
        self.peers[STUCK] = node("stuck", "127.0.0.5", dns_name=STUCK)
        self.write()

    @property
    def port_device(self) -> str:
        return f"{BOX}:{self.port2}"

    def settings(self, **overrides: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "tailscale_bin": str(FAKE_TAILSCALE),
            "tailscale_socket": str(self.socket_path),
            "ollama_ports": f"{self.port},{self.port2}",
            # Generous: five agents share two cores; tests with a stuck device pass less.
            "discovery_probe_timeout": 3.0,
        }
        values.update(overrides)
        return values


@contextlib.asynccontextmanager
async def fake_tailnet(tmp_path: Path, monkeypatch: Any) -> AsyncIterator[FakeTailnet]:
    port, port2 = common_ports(IPS, 2)
    net = FakeTailnet(
        status_path=tmp_path / "status.json",
        socket_path=tmp_path / "tailscaled.sock",
        argv_log=tmp_path / "argv.log",
        port=port,
        port2=port2,
        box=FakeOllama("127.0.0.2", port, models=[LLAMA_1B, EMBED], ollama_version=OLLAMA_VERSION),
        box2=FakeOllama(
            "127.0.0.2",
            port2,
            models=[QWEN_05],
            context_lengths={"qwen2.5:0.5b": 32768},
            ollama_version=OLLAMA_VERSION,
        ),
        gpu=FakeOllama(
            "127.0.0.3", port, models=[LLAMA_1B, QWEN_7B], ollama_version=OLLAMA_VERSION
        ),
        hanging=HangingServer("127.0.0.5", port),
        self_node=node("core-box", "127.0.0.2", dns_name=BOX, tags=["tag:server"]),
        peers={
            GPU: node("gpu-a", "127.0.0.3", dns_name=GPU, os="windows"),
            PHONE: node("pixel-7", "127.0.0.4", os="android"),
            OLD: node(
                "old-laptop",
                "127.0.0.6",
                dns_name=OLD,
                online=False,
                os="macOS",
                last_seen="2026-11-20T08:00:00.123456789Z",
            ),
        },
    )
    net.socket_path.touch()
    net.write()
    monkeypatch.setenv("FAKE_TAILSCALE_STATUS", str(net.status_path))
    monkeypatch.setenv("FAKE_TAILSCALE_ARGV_LOG", str(net.argv_log))
    servers: list[Any] = [net.box, net.box2, net.gpu, net.hanging]
    try:
        for server in servers:
            await server.start()
        yield net
    finally:
        for server in servers:
            await server.stop()
