"""Which (device, port) pairs a discovery round probes for Ollama. Pure."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit

from core.fleet.models import ProbeTarget, TailnetNode


def parse_ports(value: str) -> tuple[int, ...]:
    """ "11434, 11435" -> (11434, 11435); ValueError naming OLLAMA_PORTS on junk or no port."""
    ports: list[int] = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 65535:
            raise ValueError(f"OLLAMA_PORTS: {part!r} is not a TCP port")
        if int(part) not in ports:
            ports.append(int(part))
    if not ports:
        raise ValueError("OLLAMA_PORTS: give at least one port, e.g. 11434")
    return tuple(ports)


def device_id_for(node_id: str, port: int, ports: Sequence[int]) -> str:
    """The first port of OLLAMA_PORTS is the node's own device; any other is `<id>:<port>`."""
    return node_id if port == ports[0] else f"{node_id}:{port}"


def plan_targets(nodes: Sequence[TailnetNode], ports: Sequence[int]) -> list[ProbeTarget]:
    """Every online node that has an address (IPv4 preferred), on every port."""
    targets: list[ProbeTarget] = []
    for node in nodes:
        if not node.online or node.url_host is None:
            continue
        host = node.dns_name.rstrip(".") if node.dns_name else node.host_name
        for port in ports:
            device_id = device_id_for(node.id, port, ports)
            targets.append(
                ProbeTarget(
                    device_id=device_id,
                    base_device_id=None if device_id == node.id else node.id,
                    node=node,
                    port=port,
                    base_url=f"http://{node.url_host}:{port}",
                    host=host,
                )
            )
    return targets


def configured_target(url: str, ports: Sequence[int]) -> ProbeTarget:
    """The Ollama at OLLAMA_BASE_URL as a probe target. Its device id is its host name as a
    tailnet names nodes (a DNS name with its trailing dot, so the same machine found by
    tailscale is the same device; an IP or a one-label name as is), with `:<port>` for a port
    other than OLLAMA_PORTS' first. ValueError naming OLLAMA_BASE_URL for a URL without a host."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError(f"OLLAMA_BASE_URL: {url!r} names no host")
    port = parts.port or 11434
    try:
        ipaddress.ip_address(host)
        literal = True
    except ValueError:
        literal = False
    dns_name = None if literal or "." not in host else f"{host}."
    node_id = dns_name or host
    url_host = f"[{host}]" if literal and ":" in host else host
    node = TailnetNode(
        id=node_id,
        name=host if literal else host.split(".", 1)[0],
        host_name=host if literal else host.split(".", 1)[0],
        dns_name=dns_name,
        ips=(host,) if literal else (),
        os=None,
        online=True,
        last_seen=None,
        tags=(),
    )
    device_id = device_id_for(node_id, port, ports)
    return ProbeTarget(
        device_id=device_id,
        base_device_id=None if device_id == node_id else node_id,
        node=node,
        port=port,
        base_url=f"{parts.scheme or 'http'}://{url_host}:{port}",
        host=host,
    )
