"""Test set-up of the fleet tables, as discovery would fill them (plain SQL through `db`)."""

from __future__ import annotations

import asyncpg


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
