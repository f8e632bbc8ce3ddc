"""Plain-text tables of the fleet for `llm-mcp devices` (pure functions over the API's JSON)."""

from __future__ import annotations

from typing import Any

from llm_mcp.text_table import fit, render_table

_COLUMNS = ("DEVICE", "STATE", "OLLAMA", "LATENCY", "LOAD", "MODELS")
# Offline reasons and Ollama errors can be whole error messages: the table shows their
# start, the lines under it show them in full.
STATE_WIDTH = 36


def _state(device: dict[str, Any]) -> str:
    if not device["online"]:
        reason = device.get("offline_reason")
        return f"offline ({reason})" if reason else "offline"
    if device.get("ollama_addr"):
        return "online"
    return "online, no ollama" if not device.get("ollama_error") else "online, ollama down"


def _load(device: dict[str, Any]) -> str:
    load = str(device.get("load", 0))
    concurrency = device.get("concurrency") or {}
    return f"{load}/{concurrency['max']}" if concurrency.get("max") else load


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
                _load(d),
                ", ".join(m["name"] for m in d.get("models", [])) or "-",
            )
        )
    return rows


def _notes(view: dict[str, Any]) -> list[str]:
    notes = []
    for d in view["devices"]:
        why = d.get("offline_reason") if not d["online"] else d.get("ollama_error")
        if why and len(_state(d)) > STATE_WIDTH:
            notes.append(f"  {d['id']}: {' '.join(str(why).split())}")
    return notes


def render_devices(view: dict[str, Any]) -> str:
    """GET /v1/devices as an aligned table (LOAD is running/max), a count line, then the full
    text of any reason the table had to cut."""
    rows = [(r[0], fit(r[1], STATE_WIDTH), *r[2:]) for r in device_rows(view)]
    lines = render_table(_COLUMNS, rows, max_width=60)
    lines.append(f"{view.get('online', 0)} of {view.get('total', len(view['devices']))} online")
    if notes := _notes(view):
        lines += ["why:", *notes]
    return "\n".join(lines)
