"""POST /v1/llm/request and its gRPC twin, /v1/jobs admission (SSRF, limits), benchmarks input.

Routing only needs to know which kinds live workers advertise, so these tests register
workers over core's HTTP worker endpoint and read the queued jobs back.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import httpx
import pytest

from proto import llm_pb2 as pb
from proto.client import CoreClient, InvalidRequest
from proto.errors import NoRoute
from testkit.fleet import add_device, set_limits, set_stats

CLOUD = ["openrouter.chat", "openai.chat"]
LOCAL = ["ollama.generate", "ollama.embed"]


async def register(http: httpx.AsyncClient, worker_id: str, kinds: list[str]) -> None:
    answer = await http.post(
        "/v1/workers/register", json={"worker": {"id": worker_id, "kinds": kinds}}
    )
    assert answer.status_code == 200


async def job_count(db: asyncpg.Connection) -> int:
    return await db.fetchval("SELECT count(*) FROM jobs")


async def routed(http: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    answer = await http.post("/v1/llm/request", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_auto_goes_to_openrouter_with_its_default_model(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    await register(http, "cloud", CLOUD)
    await register(http, "local", LOCAL)
    await add_device(db, "a.ts.net.", "http://127.0.0.2:11434")
    body = await routed(http, task="chat", prompt="Summarise", max_tokens=20)
    assert body["provider"] == "openrouter" and body["kind"] == "openrouter.chat"
    assert body["model"] == "google/gemini-2.0-flash" and body["device_id"] is None
    assert "rule 4: openrouter, openai, then ollama" in body["reason"]
    job = (await http.get(f"/v1/jobs/{body['job_id']}")).json()
    assert job["kind"] == "openrouter.chat" and job["provider"] == "openrouter"
    assert job["payload"] == {
        "model": "google/gemini-2.0-flash",
        "messages": [{"role": "user", "content": "Summarise"}],
        "max_tokens": 20,
    }


async def test_prefer_local_binds_late_to_the_fastest_devices(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    await register(http, "cloud", CLOUD)
    await register(http, "local", LOCAL)
    await add_device(db, "slow.", "http://127.0.0.2:11434")
    await add_device(db, "fast.", "http://127.0.0.3:11434")
    await add_device(db, "off.", "http://127.0.0.4:11434", online=False)
    await set_stats(db, "slow.", "llama3.2:1b", tps=10, latency_ms=50)
    await set_stats(db, "fast.", "llama3.2:1b", tps=90, latency_ms=50)
    body = await routed(http, prompt="hi", constraints={"prefer_local": True})
    assert body["provider"] == "ollama" and body["kind"] == "ollama.generate"
    assert body["device_id"] == "fast." and body["model"] == "llama3.2:1b"
    assert "device off.: offline" in body["reason"]
    row = await db.fetchrow("SELECT device_id, device_candidates FROM jobs")
    assert row["device_id"] is None  # bound when claimed
    assert json.loads(row["device_candidates"]) == ["fast.", "slow."]


async def test_grpc_twin_routes_the_same_way(
    http: httpx.AsyncClient, grpc_client: CoreClient
) -> None:
    await register(http, "cloud", CLOUD)
    answer = await grpc_client.llm_request(
        {"task": "chat", "provider": "openai", "model": "gpt-4o-mini", "prompt": "x"}
    )
    assert (answer.provider, answer.kind, answer.model) == ("openai", "openai.chat", "gpt-4o-mini")
    job = await grpc_client.get_job(answer.job_id)
    assert job.kind == "openai.chat"
    with pytest.raises(InvalidRequest, match="temperature"):
        await grpc_client.llm_request({"prompt": "x", "temperature": 5})
    with pytest.raises(NoRoute, match=r"no live worker runs ollama\.embed"):
        await grpc_client.llm_request({"task": "embed", "prompt": "x"})


async def test_nothing_available_is_503_and_creates_no_job(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    answer = await http.post("/v1/llm/request", json={"prompt": "x"})
    assert answer.status_code == 503
    error = answer.json()["error"]
    assert error["code"] == "no_route"
    assert "no live worker runs openrouter.chat" in error["message"]
    assert "no live worker runs ollama.generate" in error["message"]
    assert await job_count(db) == 0


async def test_no_device_has_the_model_is_422_and_creates_no_job(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    await register(http, "local", LOCAL)
    await add_device(db, "a.", "http://127.0.0.2:11434")
    answer = await http.post(
        "/v1/llm/request", json={"provider": "ollama", "model": "qwen2.5:7b", "prompt": "x"}
    )
    assert answer.status_code == 422
    assert "no device has model qwen2.5:7b" in answer.json()["error"]["message"]
    await set_limits(db, "a.", deny_models=json.dumps(["llama*"]))
    answer = await http.post("/v1/llm/request", json={"provider": "ollama", "prompt": "x"})
    assert answer.status_code == 422
    assert "a.: deny_models excludes llama3.2:1b" in answer.json()["error"]["message"]
    assert await job_count(db) == 0


async def test_bad_bodies_are_refused(http: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    for body in (
        {"prompt": "x", "provider": "azure"},
        {"prompt": "x", "task": "translate"},
        {"prompt": "x", "constraints": {"max_latency_ms": -1}},
        {"prompt": "x", "unknown": 1},
        {"task": "chat"},
    ):
        answer = await http.post("/v1/llm/request", json=body)
        assert answer.status_code == 422, body
    assert await job_count(db) == 0


async def test_payload_with_an_unknown_address_is_refused(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    await add_device(db, "box.ts.net.", "http://127.0.0.2:11434", host="box.ts.net")
    for payload in (
        {"prompt": "x", "ollama_addr": "169.254.169.254"},
        {"prompt": "x", "ollama_addr": "http://127.0.0.2:8080"},
        {"prompt": "x", "ollama_host": "evil.example.com"},
    ):
        answer = await http.post("/v1/jobs", json={"kind": "ollama.generate", "payload": payload})
        assert answer.status_code == 422, payload
        assert "is not a known device" in answer.json()["error"]["message"]
    answer = await http.post(
        "/v1/jobs", json={"kind": "echo", "payload": {"base_url": "http://10.0.0.1/"}}
    )
    assert answer.status_code == 422
    await register(http, "local", LOCAL)
    answer = await http.post(
        "/v1/llm/request",
        json={"provider": "ollama", "payload": {"prompt": "x", "ollama_addr": "10.1.2.3"}},
    )
    assert answer.status_code == 422
    assert await job_count(db) == 0
    # A known device's address is fine and pins the job to it.
    answer = await http.post(
        "/v1/jobs",
        json={"kind": "ollama.generate", "payload": {"prompt": "x", "ollama_host": "box.ts.net"}},
    )
    assert answer.status_code == 201
    job = (await http.get(f"/v1/jobs/{answer.json()['job_id']}")).json()
    assert job["device_id"] == "box.ts.net."


async def test_job_for_a_device_is_checked_against_its_limits(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    await add_device(db, "small.", "http://127.0.0.2:11434", {"llama3.1:70b": 70.0, "qwen:1b": 1})
    await set_limits(db, "small.", ram_gb=8.0)
    answer = await http.post(
        "/v1/jobs",
        json={
            "kind": "ollama.generate",
            "device_id": "small.",
            "payload": {"model": "llama3.1:70b"},
        },
    )
    assert answer.status_code == 422
    message = answer.json()["error"]["message"]
    assert "max_params_b=5 < 70B of llama3.1:70b" in message
    answer = await http.post(
        "/v1/jobs", json={"kind": "ollama.generate", "device_id": "nope.", "payload": {}}
    )
    assert answer.status_code == 422 and "not a known Ollama device" in answer.text
    answer = await http.post(
        "/v1/jobs",
        json={"kind": "ollama.generate", "device_id": "small.", "payload": {"model": "qwen:1b"}},
    )
    assert answer.status_code == 201
    assert await job_count(db) == 1


@pytest.mark.slow
async def test_benchmark_run_input_is_checked(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    await add_device(db, "b.", "http://127.0.0.2:11434", {"llama3.2:1b": 1.2, "big:70b": 70})
    await set_limits(db, "b.", ram_gb=16.0)
    base = {
        "provider": "ollama",
        "model": "llama3.2:1b",
        "task_type": "generate",
        "device_id": "b.",
    }
    for change, needle in (
        ({"runs": 0}, "runs"),
        ({"runs": 51}, "runs"),
        ({"device_id": None}, "device_id"),
        ({"device_id": "x."}, "not a known Ollama device"),
        ({"model": "qwen:1b"}, "does not have model qwen:1b"),
        ({"model": "big:70b"}, "max_params_b=12 < 70B"),
        ({"provider": "openai"}, "provider"),
    ):
        answer = await http.post("/v1/benchmarks/run", json={**base, **change})
        assert answer.status_code == 422, change
        assert needle in answer.text, answer.text
    assert await job_count(db) == 0
    assert (await http.get("/v1/benchmarks", params={"limit": 0})).status_code == 422
    answer = await http.post("/v1/benchmarks/run", json={**base, "runs": 2})
    assert answer.status_code == 201 and len(answer.json()["job_ids"]) == 2
    assert await db.fetchval("SELECT count(*) FROM jobs WHERE device_id = 'b.'") == 2


async def test_benchmark_figures_feed_max_latency_routing(
    http: httpx.AsyncClient, db: asyncpg.Connection, grpc_client: CoreClient
) -> None:
    await register(http, "cloud", CLOUD)
    await register(http, "local", LOCAL)
    await add_device(db, "gpu.", "http://127.0.0.2:11434")
    body = {
        "prompt": "x",
        "max_tokens": 100,
        "constraints": {"prefer_local": True, "max_latency_ms": 2000},
    }
    # No figures yet and a cloud is live: rule 5 sends it to the cloud.
    first = await routed(http, **body)
    assert first["provider"] == "openrouter"
    assert "device gpu.: no figures for llama3.2:1b, cloud available" in first["reason"]
    # A benchmark: 10 tokens in 1100 ms at 100 tok/s -> 1000 ms overhead; 100 tokens -> 2000 ms.
    await grpc_client.report_benchmark(
        pb.ReportBenchmarkRequest(
            worker_id="local",
            device_id="gpu.",
            provider="ollama",
            model="llama3.2:1b",
            task_type="generate",
            tokens_out=10,
            latency_ms=1100,
            tps=100,
            ok=True,
        )
    )
    second = await routed(http, **body)
    assert second["provider"] == "ollama" and second["device_id"] == "gpu."
    tight = await routed(
        http, **{**body, "constraints": {**body["constraints"], "max_latency_ms": 1500}}
    )
    assert tight["provider"] == "openrouter"
    assert "device gpu.: expected 2000 ms > 1500 ms" in tight["reason"]
