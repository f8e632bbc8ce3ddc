"""Plain-text tables of the fleet for `llm-mcp devices` (pure functions over the API's JSON)."""

from __future__ import annotations

from typing import Any

_COLUMNS = ("DEVICE", "STATE", "OLLAMA", "LATENCY", "LOAD", "MODELS")


def _state(device: dict[str, Any]) -> str:
    if not device["online"]:
        reason = device.get("offline_reason")
        return f"offline ({reason})" if reason else "offline"
    if device.get("ollama_addr"):
        return "online"
    return "online, no ollama" if not device.get("ollama_error") else "online, ollama down"


def device_rows(view: dict[str, Any]) -> list[tuple[str, ...]]:
    rows = []
    for d in view["devices"]:
        latency = d.get("latency_ms")
        rows.append(
            (
                d["id"],
                _state(d),
                d.get("ollama_version") or "-",
                f"{latency:.0f} ms" if latency is not None else "-",
                str(d.get("load", 0)),
                ", ".join(m["name"] for m in d.get("models", [])) or "-",
            )
        )
    return rows


def render_devices(view: dict[str, Any]) -> str:
    """GET /v1/devices as an aligned table, then a count line."""
    rows = [_COLUMNS, *device_rows(view)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS) - 1)]
    lines = [
        "  ".join([*(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)), r[-1]]).rstrip()
        for r in rows
    ]
    lines.append(f"{view.get('online', 0)} of {view.get('total', len(view['devices']))} online")
    return "\n".join(lines)
