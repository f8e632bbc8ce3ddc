"""DEVICE_LIMITS_JSON / DEVICE_LIMITS_FILE / DEVICE_LIMITS_INTERVAL / STRICT_MODEL_LIMITS with a
real core: what start-up does with them, the periodic re-apply, and what a client then sees."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import asyncpg
import httpx
import pytest

from core.routing.limits import LimitsError
from testkit.fleet import add_device, set_limits
from testkit.support import eventually, start_core


async def limits_rows(db: asyncpg.Connection) -> dict[str, dict]:
    rows = await db.fetch("SELECT * FROM device_limits ORDER BY device_id")
    return {r["device_id"]: dict(r) for r in rows}


async def test_json_limits_are_applied_at_start_and_enforced(
    database_url: str, db: asyncpg.Connection
) -> None:
    await add_device(db, "small.", "http://127.0.0.2:11434", {"llama3.1:8b": 8.0, "qwen:1b": 1})
    config = {"*": {"ram_gb": 32}, "small.": {"ram_gb": 8, "deny_models": ["qwen:*"]}}
    async with start_core(database_url, device_limits_json=json.dumps(config)) as core:
        rows = await limits_rows(db)
        assert rows["small."]["max_params_b"] == 5 and rows["small."]["max_context_k"] == 4
        assert rows["*"]["max_params_b"] == 24 and rows["*"]["max_context_k"] == 16
        assert rows["small."]["source"] == "config"
        async with httpx.AsyncClient(base_url=core.http_url) as http:
            for model, needle in (("llama3.1:8b", "max_params_b=5"), ("qwen:1b", "deny_models")):
                answer = await http.post(
                    "/v1/jobs",
                    json={
                        "kind": "ollama.generate",
                        "device_id": "small.",
                        "payload": {"model": model},
                    },
                )
                assert answer.status_code == 422 and needle in answer.text


async def test_broken_json_fails_start_up_naming_the_variable(database_url: str) -> None:
    with pytest.raises(LimitsError, match="DEVICE_LIMITS_JSON is not valid JSON"):
        async with start_core(database_url, device_limits_json='{"*": {"ram_gb": 8}'):
            pass


async def test_missing_file_fails_start_up_naming_the_variable(
    database_url: str, tmp_path: Path
) -> None:
    with pytest.raises(LimitsError, match="DEVICE_LIMITS_FILE"):
        async with start_core(database_url, device_limits_file=str(tmp_path / "nope.json")):
            pass


async def test_file_is_re_applied_and_a_broken_one_keeps_the_last_good_limits(
    database_url: str,
    db: asyncpg.Connection,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / "limits.json"
    path.write_text(json.dumps({"a.": {"ram_gb": 8}, "b.": {"max_params_b": 3}}))
    async with start_core(
        database_url, device_limits_file=str(path), device_limits_interval=0.05
    ) as core:
        assert set(await limits_rows(db)) == {"a.", "b."}
        # Edited while core runs: the loop picks it up (b. gone, a. changed).
        path.write_text(json.dumps({"a.": {"ram_gb": 16, "allow_models": ["llama*"]}}))

        async def reapplied() -> bool:
            rows = await limits_rows(db)
            return set(rows) == {"a."} and rows["a."]["max_params_b"] == 12

        await eventually(reapplied)
        assert json.loads((await limits_rows(db))["a."]["allow_models"]) == ["llama*"]
        caplog.set_level(logging.ERROR, logger="core.routing.limits_loader")
        path.write_text("{broken")
        assert await core.runtime.limits.run_once() is False
        assert "DEVICE_LIMITS_FILE" in caplog.text and "keeping the last good" in caplog.text
        rows = await limits_rows(db)
        assert set(rows) == {"a."} and rows["a."]["max_params_b"] == 12


async def test_strict_mode_refuses_models_of_unknown_size(
    database_url: str, db: asyncpg.Connection
) -> None:
    await add_device(db, "s.", "http://127.0.0.2:11434", {"mystery:latest": None, "known:1b": 1})
    limits = json.dumps({"s.": {"ram_gb": 8}})
    async with start_core(
        database_url, device_limits_json=limits, strict_model_limits=True
    ) as core:
        async with httpx.AsyncClient(base_url=core.http_url) as http:

            async def submit(model: str) -> httpx.Response:
                return await http.post(
                    "/v1/jobs",
                    json={
                        "kind": "ollama.generate",
                        "device_id": "s.",
                        "payload": {"model": model},
                    },
                )

            refused = await submit("mystery:latest")
            assert refused.status_code == 422
            assert "STRICT_MODEL_LIMITS: parameter count of mystery:latest unknown" in refused.text
            assert (await submit("known:1b")).status_code == 201
    # Without strict mode the unknown model is allowed.
    async with start_core(database_url, device_limits_json=limits) as core:
        async with httpx.AsyncClient(base_url=core.http_url) as http:
            answer = await http.post(
                "/v1/jobs",
                json={
                    "kind": "ollama.generate",
                    "device_id": "s.",
                    "payload": {"model": "mystery:latest"},
                },
            )
            assert answer.status_code == 201


async def test_config_limits_are_replaced_on_restart_and_the_devices_view_shows_them(
    database_url: str, db: asyncpg.Connection
) -> None:
    await add_device(db, "a.", "http://127.0.0.2:11434")
    await add_device(db, "b.", "http://127.0.0.3:11434")
    await add_device(db, "a.:11435", "http://127.0.0.2:11435", {"llama3.1:8b": 8.0})
    await db.execute("UPDATE devices SET base_device_id = 'a.' WHERE id = 'a.:11435'")
    await set_limits(db, "ops.", ram_gb=64)  # set by an operator, not by config

    async def devices(core: object) -> dict[str, dict]:
        async with httpx.AsyncClient(base_url=core.http_url) as http:  # type: ignore[attr-defined]
            listed = (await http.get("/v1/devices")).json()["devices"]
        return {d["id"]: d for d in listed}

    config = json.dumps({"a.": {"ram_gb": 8, "max_concurrency": 2}})
    async with start_core(
        database_url, device_limits_json=config, device_max_concurrency=3
    ) as core:
        shown = await devices(core)
        assert shown["a."]["limits"]["max_params_b"] == 5
        assert shown["a."]["concurrency"] == {
            "max": 2,
            "from": "limits 'a.'",
            "now": 2,
            "running": 0,
        }
        # A port device is the same machine: its base device's limits, also for routing.
        assert shown["a.:11435"]["concurrency"]["max"] == 2
        async with httpx.AsyncClient(base_url=core.http_url) as http:
            refused = await http.post(
                "/v1/jobs",
                json={
                    "kind": "ollama.generate",
                    "device_id": "a.:11435",
                    "payload": {"model": "llama3.1:8b"},
                },
            )
        assert refused.status_code == 422 and "max_params_b=5" in refused.text
        assert shown["b."]["limits"] is None
        assert shown["b."]["concurrency"]["max"] == 3
        assert shown["b."]["concurrency"]["from"] == "DEVICE_MAX_CONCURRENCY"

    # Restarted without the config: its limits are gone, the operator's stay.
    async with start_core(database_url, device_max_concurrency=3) as core:
        assert set(await limits_rows(db)) == {"ops."}
        shown = await devices(core)
        assert shown["a."]["limits"] is None and shown["a."]["concurrency"]["max"] == 3

    # Another config: exactly that one, not the sum of both.
    config = json.dumps({"b.": {"max_params_b": 3}})
    async with start_core(database_url, device_limits_json=config):
        rows = await limits_rows(db)
        assert set(rows) == {"ops.", "b."} and rows["b."]["source"] == "config"
        assert rows["ops."]["source"] == "manual"
