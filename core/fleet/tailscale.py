"""Reads the tailnet: runs `tailscale status --json` and parses Self and Peer into nodes."""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import datetime
from typing import Any

from core.child_process import CommandTimeout, run_command
from core.fleet.models import TailnetNode

_ZERO_TIME = "0001-01-01T00:00:00Z"
_FRACTION = re.compile(r"(\.\d{6})\d+")


class TailscaleUnavailable(Exception):
    """tailscale could not be run or gave no usable answer; the message says what to fix."""


def parse_time(value: Any) -> datetime | None:
    """Tailscale's RFC 3339 times (nanoseconds allowed); its zero time and junk give None."""
    if not isinstance(value, str) or not value or value == _ZERO_TIME:
        return None
    try:
        parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return None if parsed.year <= 1 else parsed


def parse_node(raw: dict[str, Any], *, is_self: bool = False) -> TailnetNode | None:
    """One Self/Peer entry; None when it has neither a DNS name nor a host name."""
    dns_name = raw.get("DNSName") or None
    host_name = raw.get("HostName") or ""
    if not dns_name and not host_name:
        return None
    if dns_name and not dns_name.endswith("."):
        dns_name += "."
    ips = tuple(ip for ip in raw.get("TailscaleIPs") or () if isinstance(ip, str))
    # Self carries Online only on recent versions; a running tailscaled is itself online.
    online = bool(raw.get("Online", is_self))
    return TailnetNode(
        id=dns_name or host_name,
        name=dns_name.split(".", 1)[0] if dns_name else host_name,
        host_name=host_name or (dns_name or "").split(".", 1)[0],
        dns_name=dns_name,
        ips=ips,
        os=raw.get("OS") or None,
        online=online,
        last_seen=parse_time(raw.get("LastSeen")),
        tags=tuple(t for t in raw.get("Tags") or () if isinstance(t, str)),
        is_self=is_self,
    )


def parse_status(status: dict[str, Any]) -> list[TailnetNode]:
    """Self first, then the peers by id; a node listed twice keeps its first entry."""
    nodes: list[TailnetNode] = []
    if isinstance(status.get("Self"), dict) and (node := parse_node(status["Self"], is_self=True)):
        nodes.append(node)
    peers = status.get("Peer") or {}
    if isinstance(peers, dict):
        parsed = [parse_node(p) for p in peers.values() if isinstance(p, dict)]
        nodes.extend(sorted((n for n in parsed if n), key=lambda n: n.id))
    seen: set[str] = set()
    unique = []
    for node in nodes:
        if node.id not in seen:
            seen.add(node.id)
            unique.append(node)
    return unique


def status_command(binary: str, socket: str | None) -> list[str]:
    """The argv to run; TailscaleUnavailable naming the setting when binary or socket is missing."""
    path = shutil.which(binary)
    if path is None:
        raise TailscaleUnavailable(f"tailscale binary not found: {binary!r} (set TAILSCALE_BIN)")
    if socket and not os.path.exists(socket):
        raise TailscaleUnavailable(
            f"tailscaled socket not found: {socket!r} (set TAILSCALE_SOCKET, empty for default)"
        )
    return [path, *([f"--socket={socket}"] if socket else []), "status", "--json"]


async def read_status(binary: str, socket: str | None, *, limit_seconds: float) -> dict[str, Any]:
    """The JSON of `tailscale [--socket S] status --json`.

    Raises TailscaleUnavailable, naming the setting to fix, when the binary or the
    socket is missing, the command fails or hangs, or its output is not JSON.
    """
    args = status_command(binary, socket)
    try:
        done = await run_command(args, limit_seconds=limit_seconds)
    except CommandTimeout:
        raise TailscaleUnavailable(
            f"tailscale status did not answer within {limit_seconds}s"
        ) from None
    out, err = done.stdout, done.stderr
    if done.returncode != 0:
        detail = err.decode(errors="replace").strip()[:300] or f"exit code {done.returncode}"
        raise TailscaleUnavailable(f"tailscale status failed: {detail}")
    try:
        status = json.loads(out)
    except ValueError as exc:
        raise TailscaleUnavailable(f"tailscale status printed no JSON: {exc}") from None
    if not isinstance(status, dict):
        raise TailscaleUnavailable("tailscale status printed JSON that is not an object")
    state = status.get("BackendState")
    if state not in (None, "Running"):
        # Logged out or stopped: the peer list says nothing about the devices themselves.
        raise TailscaleUnavailable(f"tailscale is not running (BackendState {state!r})")
    return status
