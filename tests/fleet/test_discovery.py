"""Discovery against a fake tailnet: the fake tailscale CLI and fake Ollama servers on loopback."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from pydantic import ValidationError

from llm_mcp import cli
from proto.client import CoreClient
from proto.errors import DeviceNotFound, InvalidInput
from testkit.fleet import BOX, GPU, LLAMA_1B, OLD, PHONE, QWEN_7B, STUCK, FakeTailnet, fake_tailnet
from testkit.support import core_settings, eventually, start_core


@pytest.fixture
async def net(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeTailnet]:
    async with fake_tailnet(tmp_path, monkeypatch) as tailnet:
        yield tailnet


@pytest.fixture
async def http(database_url: str, net: FakeTailnet) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        start_core(database_url, **net.settings()) as core,
        httpx.AsyncClient(base_url=core.http_url, timeout=30) as client,
    ):
        client.grpc_addr = core.grpc_addr  # type: ignore[attr-defined]
        yield client


async def run_round(http: httpx.AsyncClient) -> dict[str, Any]:
    answer = await http.post("/v1/discovery/run")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["ran"] is True
    return body["summary"]


async def devices(db: asyncpg.Connection) -> dict[str, asyncpg.Record]:
    return {r["id"]: r for r in await db.fetch("SELECT * FROM devices")}


async def available(db: asyncpg.Connection, device_id: str) -> set[str]:
    rows = await db.fetch(
        "SELECT model FROM device_models WHERE device_id = $1 AND available", device_id
    )
    return {r["model"] for r in rows}


@pytest.mark.slow
async def test_first_round_finds_devices_ports_and_models(
    http: httpx.AsyncClient, net: FakeTailnet, db: asyncpg.Connection
) -> None:
    summary = await run_round(http)

    assert summary["ok"] is True and summary["error"] is None
    assert summary["devices_seen"] == 4 and summary["online"] == 3
    assert summary["with_ollama"] == 3  # core-box on both ports, gpu-a
    assert summary["errors"] == {}  # the phone refuses: no Ollama there is not an error
    added = {(a["device_id"], a["model"]) for a in summary["models_added"]}
    assert added == {
        (BOX, "llama3.2:1b"),
        (BOX, "nomic-embed-text:latest"),
        (net.port_device, "qwen2.5:0.5b"),
        (GPU, "llama3.2:1b"),
        (GPU, "qwen2.5:7b"),
    }

    found = await devices(db)
    assert set(found) == {BOX, net.port_device, GPU, PHONE, OLD}
    box = found[BOX]
    assert box["online"] and box["name"] == "core-box" and box["host_name"] == "core-box"
    assert box["ips"][0] == "127.0.0.2" and box["os"] == "linux" and box["tags"] == ["tag:server"]
    assert box["ollama_addr"] == f"http://127.0.0.2:{net.port}"
    assert box["ollama_host"] == "core-box.tail1234.ts.net"
    assert box["ollama_version"] == "0.5.7" and box["ollama_latency_ms"] > 0
    assert box["base_device_id"] is None
    port_device = found[net.port_device]
    assert port_device["base_device_id"] == BOX and port_device["online"]
    assert port_device["ollama_addr"] == f"http://127.0.0.2:{net.port2}"
    assert found[PHONE]["online"] and found[PHONE]["ollama_addr"] is None
    assert found[PHONE]["name"] == "pixel-7" and found[PHONE]["os"] == "android"
    old = found[OLD]
    assert not old["online"] and old["last_seen_at"].isoformat().startswith("2026-11-20T08:00:00")

    assert await available(db, BOX) == {"llama3.2:1b", "nomic-embed-text:latest"}
    assert await available(db, GPU) == {"llama3.2:1b", "qwen2.5:7b"}
    models = {r["name"]: r for r in await db.fetch("SELECT * FROM models")}
    qwen = models["qwen2.5:7b"]
    assert qwen["size_bytes"] == QWEN_7B["size"] and qwen["family"] == "qwen2"
    assert qwen["parameter_size"] == "7.6B" and qwen["params_b"] == pytest.approx(7.6)
    assert qwen["quantization"] == "Q4_K_M" and qwen["context_length"] == 131072
    assert models["qwen2.5:0.5b"]["context_length"] == 32768
    assert models["nomic-embed-text:latest"]["params_b"] == pytest.approx(0.137)

    # The socket setting reaches the CLI; /api/show is asked once per new model name only.
    argv = [json.loads(line) for line in net.argv_log.read_text().splitlines()]
    assert argv[0] == [f"--socket={net.socket_path}", "status", "--json"]
    shows = net.box.show_calls + net.box2.show_calls + net.gpu.show_calls
    assert sorted(shows) == sorted(set(models))
    await run_round(http)
    assert len(net.box.show_calls + net.box2.show_calls + net.gpu.show_calls) == len(shows)

    last = (await http.get("/v1/discovery/last")).json()
    assert last["ran"] is True and last["finished_at"] >= last["started_at"]
    assert last["summary"]["devices_seen"] == 4


@pytest.mark.slow
async def test_fleet_changes_between_rounds(
    http: httpx.AsyncClient, net: FakeTailnet, db: asyncpg.Connection
) -> None:
    await run_round(http)

    # gpu-a leaves the tailnet listing entirely; a model vanishes from core-box.
    gpu_node = net.peers.pop(GPU)
    net.write()
    net.box.models = [LLAMA_1B]
    summary = await run_round(http)
    assert summary["went_offline"] == [GPU]
    assert summary["models_removed"] == [{"device_id": BOX, "model": "nomic-embed-text:latest"}]
    found = await devices(db)
    assert GPU in found and not found[GPU]["online"]  # kept with its history
    assert await available(db, BOX) == {"llama3.2:1b"}

    # It comes back; then its Ollama dies while tailscale still shows it online.
    net.peers[GPU] = gpu_node
    net.write()
    summary = await run_round(http)
    assert summary["came_back"] == [GPU]
    await net.gpu.stop()
    summary = await run_round(http)
    assert "connection failed" in summary["errors"][GPU]
    removed = {(r["device_id"], r["model"]) for r in summary["models_removed"]}
    assert removed == {(GPU, "llama3.2:1b"), (GPU, "qwen2.5:7b")}
    gpu = (await devices(db))[GPU]
    assert gpu["online"] and gpu["ollama_addr"] is None and gpu["ollama_error"]
    catalog = (await http.get("/v1/models")).json()["models"]
    assert {m["name"]: m["devices"] for m in catalog}["qwen2.5:7b"] == []

    # Ollama is back: routable again, models available again.
    await net.gpu.start()
    summary = await run_round(http)
    assert summary["errors"] == {}
    assert await available(db, GPU) == {"llama3.2:1b", "qwen2.5:7b"}
    assert (await devices(db))[GPU]["ollama_addr"] == f"http://127.0.0.3:{net.port}"

    # The whole node goes offline in tailscale: its port device goes with it.
    net.self_node["Online"] = False
    net.write()
    summary = await run_round(http)
    assert set(summary["went_offline"]) == {BOX, net.port_device}


@pytest.mark.slow
async def test_hanging_device_does_not_stall_the_round(
    database_url: str, net: FakeTailnet, db: asyncpg.Connection
) -> None:
    net.add_stuck_peer()
    async with (
        start_core(database_url, **net.settings(discovery_probe_timeout=1.5)) as core,
        httpx.AsyncClient(base_url=core.http_url, timeout=30) as http,
    ):
        started = time.monotonic()
        summary = await run_round(http)
        elapsed = time.monotonic() - started
    # The stuck device costs about the probe timeout, not a stalled round.
    assert elapsed < 5.0, elapsed
    assert summary["errors"] == {STUCK: "no answer within 1.5s"}
    assert summary["with_ollama"] == 3
    stuck = (await devices(db))[STUCK]
    assert stuck["online"] and stuck["ollama_addr"] is None
    assert stuck["ollama_error"] == "no answer within 1.5s"


@pytest.mark.slow
async def test_worker_offline_signal_then_probe_restores(
    database_url: str, net: FakeTailnet, db: asyncpg.Connection
) -> None:
    async with (
        start_core(database_url, worker_token="w-secret", **net.settings()) as core,
        httpx.AsyncClient(base_url=core.http_url, timeout=30) as http,
        CoreClient(core.grpc_addr, token="w-secret") as grpc_client,
    ):
        await run_round(http)
        body = {"device_id": GPU, "reason": "connection refused"}
        assert (await http.post("/v1/devices/offline", json=body)).status_code == 401
        auth = {"authorization": "Bearer w-secret"}
        answer = await http.post("/v1/devices/offline", json=body, headers=auth)
        assert answer.status_code == 200 and answer.json()["online"] is False
        unknown = await http.post(
            "/v1/devices/offline", json={"device_id": "nope.", "reason": "x"}, headers=auth
        )
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "device_not_found"
        bad = await http.post("/v1/devices/offline", json={"reason": "x"}, headers=auth)
        assert bad.status_code == 422

        listed = {d["id"]: d for d in (await http.get("/v1/devices")).json()["devices"]}
        assert listed[GPU]["online"] is False
        assert listed[GPU]["offline_reason"] == "connection refused"
        assert listed[GPU]["routable"] is False

        # gRPC twin: the port device; unknown -> NOT_FOUND.
        await grpc_client.mark_device_offline(device_id=net.port_device, reason="reset by peer")
        with pytest.raises(DeviceNotFound):  # core's own class, carried across gRPC
            await grpc_client.mark_device_offline(device_id="nope.", reason="x")
        assert not (await devices(db))[net.port_device]["online"]

        # The next successful probe brings both back.
        summary = await run_round(http)
        assert set(summary["came_back"]) == {GPU, net.port_device}
        gpu = (await devices(db))[GPU]
        assert gpu["online"] and gpu["offline_reason"] is None and gpu["offline_at"] is None


@pytest.mark.slow
async def test_missing_tailscale_is_a_clear_error_not_a_crash(
    database_url: str, net: FakeTailnet, db: asyncpg.Connection, tmp_path: Path
) -> None:
    async with (
        start_core(database_url, **net.settings()) as good,
        httpx.AsyncClient(base_url=good.http_url, timeout=30) as http,
    ):
        assert (await http.get("/v1/discovery/last")).json()["ran"] is False
        await run_round(http)
    cases = [
        ({"tailscale_bin": str(tmp_path / "no-such-tailscale")}, "TAILSCALE_BIN"),
        ({"tailscale_socket": str(tmp_path / "no.sock")}, "TAILSCALE_SOCKET"),
    ]
    for overrides, named in cases:
        async with (
            start_core(database_url, **net.settings(**overrides)) as core,
            httpx.AsyncClient(base_url=core.http_url, timeout=30) as http,
        ):
            summary = await run_round(http)
            assert summary["ok"] is False and named in summary["error"]
            last = (await http.get("/v1/discovery/last")).json()
            assert last["summary"]["error"] == summary["error"]
    # Not seeing the tailnet marks nothing offline.
    assert (await devices(db))[GPU]["online"]

    # Logged out: an error, not "every device went offline".
    document = json.loads(net.status_path.read_text())
    net.status_path.write_text(json.dumps({**document, "BackendState": "NeedsLogin", "Peer": {}}))
    async with (
        start_core(database_url, **net.settings()) as core,
        httpx.AsyncClient(base_url=core.http_url, timeout=30) as http,
    ):
        summary = await run_round(http)
        assert "NeedsLogin" in summary["error"]
    assert (await devices(db))[GPU]["online"]

    # tailscaled down: the CLI's own message is passed on.
    net.status_path.unlink()
    async with (
        start_core(database_url, **net.settings()) as core,
        httpx.AsyncClient(base_url=core.http_url, timeout=30) as http,
    ):
        summary = await run_round(http)
        assert "tailscaled" in summary["error"]


async def test_devices_and_models_views_match_over_http_and_grpc(
    http: httpx.AsyncClient, net: FakeTailnet, db: asyncpg.Connection
) -> None:
    await run_round(http)
    await db.execute(
        """INSERT INTO device_limits (device_id, ram_gb, max_params_b, deny_models)
           VALUES ('*', 16, 12, NULL), ($1, 8, 5, '["qwen2.5:7b"]')""",
        BOX,
    )
    await db.execute(
        """INSERT INTO benchmarks (device_id, provider, model, task_type, tokens_out,
                                   latency_ms, tps, created_at)
           VALUES ($1, 'ollama', 'llama3.2:1b', 'generate', 10, 900, 11.5, now() - interval '1h'),
                  ($1, 'ollama', 'llama3.2:1b', 'generate', 20, 800, 42.0, now())""",
        GPU,
    )
    job = await http.post("/v1/jobs", json={"kind": "echo", "payload": {}, "device_id": GPU})
    assert job.status_code == 201
    claim = await http.post("/v1/workers/claim", json={"worker_id": "w1", "kinds": ["echo"]})
    assert claim.json()["job"]["device_id"] == GPU

    listed = (await http.get("/v1/devices")).json()
    assert listed["total"] == 5 and listed["online"] == 4
    by_id = {d["id"]: d for d in listed["devices"]}
    gpu = by_id[GPU]
    assert gpu["routable"] is True and gpu["load"] == 1
    assert gpu["ollama_addr"] == f"http://127.0.0.3:{net.port}" and gpu["latency_ms"] > 0
    assert gpu["ips"][0] == "127.0.0.3" and gpu["os"] == "windows"
    assert {m["name"] for m in gpu["models"]} == {"llama3.2:1b", "qwen2.5:7b"}
    assert gpu["limits"]["device_id"] == "*" and gpu["limits"]["max_params_b"] == 12
    assert gpu["benchmarks"]["llama3.2:1b"]["tps"] == 42.0
    assert by_id[PHONE]["models"] == [] and by_id[PHONE]["routable"] is False
    assert by_id[BOX]["limits"]["deny_models"] == ["qwen2.5:7b"]
    assert by_id[net.port_device]["limits"]["device_id"] == BOX  # same machine
    assert by_id[OLD]["online"] is False

    online = (await http.get("/v1/devices", params={"online_only": "true"})).json()
    assert OLD not in {d["id"] for d in online["devices"]}

    catalog = (await http.get("/v1/models")).json()
    llama = next(m for m in catalog["models"] if m["name"] == "llama3.2:1b")
    assert llama["devices"] == [BOX, GPU]
    assert llama["size_bytes"] == LLAMA_1B["size"] and llama["family"] == "llama"
    assert llama["parameter_size"] == "1.2B" and llama["quantization"] == "Q8_0"
    assert llama["context_length"] == 131072

    async with CoreClient(http.grpc_addr) as grpc_client:  # type: ignore[attr-defined]
        assert await grpc_client.list_devices() == listed
        assert await grpc_client.list_devices(online_only=True) == online
        assert await grpc_client.list_models() == catalog


async def test_report_metrics_stores_them_and_sets_memory(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    await run_round(http)
    async with CoreClient(http.grpc_addr) as grpc_client:  # type: ignore[attr-defined]
        await grpc_client.report_metrics(
            worker_id="w1", device_id=GPU, metrics={"ram_gb": 32, "vram_gb": 12.5, "load": 0.3}
        )
        await grpc_client.report_metrics(worker_id="w1", device_id=GPU, metrics={"load": 0.5})
        with pytest.raises(Exception) as raised:
            await grpc_client.report_metrics(
                worker_id="w1", device_id=GPU, metrics={"ram_gb": "lots"}
            )
        assert isinstance(raised.value, InvalidInput)  # carried across gRPC as our own class
    rows = await db.fetch(
        "SELECT worker_id, metrics FROM device_metrics WHERE device_id = $1 ORDER BY id", GPU
    )
    assert [json.loads(r["metrics"]) for r in rows] == [
        {"ram_gb": 32, "vram_gb": 12.5, "load": 0.3},
        {"load": 0.5},
    ]
    gpu = (await devices(db))[GPU]
    assert gpu["ram_gb"] == 32 and gpu["vram_gb"] == 12.5
    listed = {d["id"]: d for d in (await http.get("/v1/devices")).json()["devices"]}
    assert listed[GPU]["ram_gb"] == 32 and listed[GPU]["vram_gb"] == 12.5


@pytest.mark.slow
async def test_two_cores_never_run_rounds_at_once(
    database_url: str, net: FakeTailnet, db: asyncpg.Connection
) -> None:
    net.add_stuck_peer()  # every round takes about the probe timeout
    settings = net.settings(discovery_probe_timeout=1.0)
    async with (
        start_core(database_url, **settings) as one,
        start_core(database_url, **settings) as two,
        httpx.AsyncClient(timeout=30) as http,
    ):
        answers = await asyncio.gather(
            *(http.post(f"{core.http_url}/v1/discovery/run") for core in (one, two, one, two))
        )
    assert all(a.status_code == 200 and a.json()["summary"]["ok"] for a in answers)
    runs = await db.fetch("SELECT started_at, finished_at FROM discovery_runs ORDER BY started_at")
    assert len(runs) == 4
    for earlier, later in itertools.pairwise(runs):
        assert earlier["finished_at"] <= later["started_at"]


@pytest.mark.slow
async def test_background_rounds_run_every_interval(
    database_url: str, net: FakeTailnet, db: asyncpg.Connection
) -> None:
    async with start_core(database_url, **net.settings(discovery_interval=0.5)):
        await eventually(
            lambda: db.fetchval(
                "SELECT count(*) >= 2 FROM discovery_runs WHERE finished_at IS NOT NULL"
            )
        )
    assert (await devices(db))[GPU]["ollama_addr"] == f"http://127.0.0.3:{net.port}"


def test_bad_ollama_ports_fail_at_start_up_naming_the_variable() -> None:
    with pytest.raises(ValidationError, match="OLLAMA_PORTS"):
        core_settings("postgresql://x/y", ollama_ports="11434,abc")


async def test_cli_discover_and_devices(
    http: httpx.AsyncClient, net: FakeTailnet, capsys: pytest.CaptureFixture[str]
) -> None:
    url = str(http.base_url).rstrip("/")
    with pytest.raises(SystemExit) as ended:
        await asyncio.to_thread(cli.main, ["discover", "--core-url", url])
    assert ended.value.code == 0
    assert json.loads(capsys.readouterr().out)["with_ollama"] == 3
    await asyncio.to_thread(cli.main, ["devices", "--core-url", url])
    table = capsys.readouterr().out.splitlines()
    gpu_line = next(line for line in table if line.startswith(GPU))
    assert "online" in gpu_line and "llama3.2:1b, qwen2.5:7b" in gpu_line
    assert table[-1] == "4 of 5 online"


@pytest.mark.slow
async def test_a_burst_of_run_requests_does_not_drain_the_pool(
    database_url: str, net: FakeTailnet
) -> None:
    async with (
        start_core(database_url, **net.settings(db_pool_size=3)) as core,
        httpx.AsyncClient(base_url=core.http_url, timeout=30) as http,
    ):
        answers = await asyncio.wait_for(
            asyncio.gather(*(http.post("/v1/discovery/run") for _ in range(6))), 25
        )
        assert [a.status_code for a in answers] == [200] * 6
        assert (await http.get("/health")).status_code == 200
