"""`tailscale status --json` documents in the shape the real CLI prints (recorded from 1.7x)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

FAKE_TAILSCALE = Path(__file__).with_name("tailscale")
ZERO_TIME = "0001-01-01T00:00:00Z"


def node(
    host_name: str,
    ip: str,
    *,
    dns_name: str | None = None,
    online: bool = True,
    os: str = "linux",
    last_seen: str = ZERO_TIME,
    tags: list[str] | None = None,
) -> dict[str, Any]:
    """One Self/Peer entry; dns_name None gives the empty DNSName of a node without MagicDNS."""
    key = hashlib.sha256(host_name.encode()).hexdigest()
    n = int(key[:4], 16) % 250 + 1
    entry: dict[str, Any] = {
        "ID": f"n{key[:12]}CNTRL",
        "PublicKey": f"nodekey:{key}",
        "HostName": host_name,
        "DNSName": dns_name or "",
        "OS": os,
        "UserID": 1234567890,
        "TailscaleIPs": [ip, f"fd7a:115c:a1e0::{n:x}"],
        "AllowedIPs": [f"{ip}/32", f"fd7a:115c:a1e0::{n:x}/128"],
        "Addrs": [f"192.168.1.{n}:41641"],
        "CurAddr": "",
        "Relay": "fra",
        "RxBytes": 1234,
        "TxBytes": 5678,
        "Created": "2025-03-01T10:00:00.123456789Z",
        "LastWrite": "2026-11-24T08:59:00.5Z",
        "LastSeen": last_seen,
        "LastHandshake": "2026-11-24T08:58:00Z",
        "Online": online,
        "ExitNode": False,
        "ExitNodeOption": False,
        "Active": online,
        "PeerAPIURL": [f"http://{ip}:45321"],
        "InNetworkMap": True,
        "InMagicSock": online,
        "InEngine": online,
    }
    if tags:
        entry["Tags"] = tags
    return entry


def status(self_node: dict[str, Any], peers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Version": "1.76.6-t8d2d8a3d5-g7e9b2a2a8",
        "TUN": True,
        "BackendState": "Running",
        "HaveNodeKey": True,
        "AuthURL": "",
        "TailscaleIPs": self_node["TailscaleIPs"],
        "Self": self_node,
        "Health": [],
        "MagicDNSSuffix": "tail1234.ts.net",
        "CurrentTailnet": {
            "Name": "ops@example.com",
            "MagicDNSSuffix": "tail1234.ts.net",
            "MagicDNSEnabled": True,
        },
        "CertDomains": None,
        "Peer": {p["PublicKey"]: p for p in peers},
        "User": {"1234567890": {"ID": 1234567890, "LoginName": "ops@example.com"}},
        "ClientVersion": None,
    }


def write_status(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2))
