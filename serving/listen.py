"""Listening sockets for llm-mcp's HTTP servers (core and the MCP bridge)."""

from __future__ import annotations

import ipaddress
import socket


def is_loopback(host: str) -> bool:
    """`localhost` or a loopback IP (127.0.0.0/8, ::1); 0.0.0.0 and names are not."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind_listener(host: str, port: int, *, what: str) -> socket.socket:
    """Binds up front, so a taken port fails at start-up with a message naming it and `what`."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Inherited by accepted connections: without it a kept-alive client waits ~40 ms per
    # answer (Nagle holding the body until the client's delayed ACK of the headers).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port} for {what} ({exc.strerror})") from exc
    sock.listen(2048)
    sock.setblocking(False)
    return sock
