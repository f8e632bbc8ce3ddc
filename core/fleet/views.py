"""The JSON of GET /v1/devices, GET /v1/models and the discovery endpoints.

HTTP and gRPC (ListDevices, ListModels) both answer with these, so they cannot drift.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.fleet.catalog_store import FleetSnapshot
from core.fleet.discovery_store import DiscoveryRun


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _model_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": row["name"],
        "size_bytes": row["size_bytes"],
        "family": row["family"],
        "parameter_size": row["parameter_size"],
        "params_b": row["params_b"],
        "quantization": row["quantization"],
        "context_length": row["context_length"],
    }


def limits_view(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    view = {k: v for k, v in row.items() if k != "updated_at"}
    view["updated_at"] = _ts(row.get("updated_at"))
    return view


def _benchmark_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "task_type": row["task_type"],
        "tps": row["tps"],
        "latency_ms": row["latency_ms"],
        "tokens_in": row["tokens_in"],
        "tokens_out": row["tokens_out"],
        "ok": row["ok"],
        "at": _ts(row["created_at"]),
    }


def device_view(device: dict[str, Any], snapshot: FleetSnapshot) -> dict[str, Any]:
    """One device as an operator needs it to see why routing chose what it chose."""
    device_id = device["id"]
    # A port device is the same machine as its base device: same memory, same limits.
    limits = (
        snapshot.limits.get(device_id)
        or snapshot.limits.get(device["base_device_id"] or "")
        or snapshot.limits.get("*")
    )
    models = [
        {**_model_fields(m), "size_bytes": m["device_size_bytes"] or m["size_bytes"]}
        for m in snapshot.models_by_device.get(device_id, [])
    ]
    return {
        "id": device_id,
        "base_device_id": device["base_device_id"],
        "name": device["name"],
        "host_name": device["host_name"],
        "online": device["online"],
        "routable": bool(device["online"] and device["ollama_addr"]),
        "ips": list(device["ips"]),
        "os": device["os"],
        "tags": list(device["tags"]),
        "last_seen_at": _ts(device["last_seen_at"]),
        "ollama_addr": device["ollama_addr"],
        "ollama_host": device["ollama_host"],
        "ollama_version": device["ollama_version"],
        "latency_ms": device["ollama_latency_ms"],
        "ollama_error": device["ollama_error"],
        "ollama_checked_at": _ts(device["ollama_checked_at"]),
        "offline_reason": device["offline_reason"],
        "offline_at": _ts(device["offline_at"]),
        "ram_gb": device["ram_gb"],
        "vram_gb": device["vram_gb"],
        "load": device["load"],
        "models": models,
        "limits": limits_view(limits),
        "benchmarks": {
            b["model"]: _benchmark_view(b) for b in snapshot.benchmarks_by_device.get(device_id, [])
        },
    }


def devices_view(snapshot: FleetSnapshot) -> dict[str, Any]:
    devices = [device_view(d, snapshot) for d in snapshot.devices]
    return {
        "devices": devices,
        "online": sum(1 for d in devices if d["online"]),
        "total": len(devices),
    }


def models_view(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"models": [{**_model_fields(r), "devices": list(r["devices"])} for r in rows]}


def discovery_run_view(run: DiscoveryRun | None) -> dict[str, Any]:
    """{"ran", "id", "started_at", "finished_at", "summary"}; ran=false before any round."""
    if run is None:
        return {"ran": False, "id": None, "started_at": None, "finished_at": None, "summary": None}
    return {
        "ran": True,
        "id": run.id,
        "started_at": _ts(run.started_at),
        "finished_at": _ts(run.finished_at),
        "summary": run.summary,
    }
