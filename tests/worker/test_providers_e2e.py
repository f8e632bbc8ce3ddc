"""Each provider handler end to end: client -> core -> real worker -> fake provider -> result.

Also the error classification a user sees: what is retried, when, and what marks a device
offline.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest

from core.runtime import RunningCore
from testkit.fakes.ollama import FakeOllama
from testkit.fakes.openai import FakeOpenAI, rate_limited
from testkit.fakes.server import CannedError, closed_port, serving
from testkit.fleet import add_device, set_limits
from testkit.support import eventually, provider_worker, start_core


@pytest.fixture
async def core(database_url: str) -> AsyncIterator[RunningCore]:
    # Fast retries, so a retried job finishes within the test.
    async with start_core(database_url, retry_base_seconds=0.05, retry_cap_seconds=0.2) as c:
        yield c


async def finished(http: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        job = (await http.get(f"/v1/jobs/{job_id}")).json()
        return job if job["status"] in ("done", "error", "canceled") else None

    return await eventually(check, within=20)


async def submit(http: httpx.AsyncClient, **body: Any) -> str:
    response = await http.post("/v1/jobs", json=body)
    assert response.status_code == 201, response.text
    return response.json()["job_id"]


@pytest.mark.slow
async def test_ollama_generate_on_a_device(
    core: RunningCore, http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    async with serving(FakeOllama("127.0.0.2", tps=50, eval_count=20)) as ollama:
        await add_device(db, "gpu1.ts.net.", ollama.url)
        await set_limits(db, "gpu1.ts.net.", ram_gb=8.0)  # auto: 4K context
        async with provider_worker(core.grpc_addr):
            job_id = await submit(
                http,
                kind="ollama.generate",
                device_id="gpu1.ts.net.",
                payload={"model": "llama3.2:1b", "prompt": "hello", "options": {"num_ctx": 32768}},
            )
            job = await finished(http, job_id)
    assert job["status"] == "done", job["error"]
    data = job["result"]["data"]
    assert data["response"] == "echo: hello" and data["eval_count"] == 20 and data["done"]
    sent = ollama.requests[0][1]
    assert sent["stream"] is False and sent["options"]["num_ctx"] == 4096
    assert not {"ollama_addr", "ollama_host", "num_ctx_limit"} & set(sent)
    metrics = job["metrics"]
    assert metrics["provider"] == "ollama" and metrics["model"] == "llama3.2:1b"
    assert metrics["device_id"] == "gpu1.ts.net." and job["device_id"] == "gpu1.ts.net."
    assert metrics["tps"] == 50.0 and metrics["tokens_out"] == 20 and metrics["tokens_in"] == 1
    assert metrics["latency_ms"] > 0
    # The job's figures feed routing's running estimate.
    stats = await db.fetchrow("SELECT * FROM device_model_stats WHERE device_id = 'gpu1.ts.net.'")
    assert stats["samples"] == 1 and stats["tps"] == 50.0


@pytest.mark.slow
async def test_ollama_embed_without_devices_uses_ollama_base_url(
    core: RunningCore, http: httpx.AsyncClient
) -> None:
    async with serving(FakeOllama("127.0.0.3", models=["nomic-embed-text"])) as ollama:
        async with provider_worker(core.grpc_addr, ollama_base_url=ollama.url):
            job_id = await submit(http, kind="ollama.embed", payload={"prompt": "abcd"})
            job = await finished(http, job_id)
    assert job["status"] == "done", job["error"]
    assert job["result"] == {"data": {"embedding": [0.5, -0.25, 4.0]}}
    assert ollama.requests[0][0] == "/api/embeddings"
    assert ollama.requests[0][1] == {"model": "nomic-embed-text", "prompt": "abcd"}


@pytest.mark.slow
@pytest.mark.parametrize(("provider", "prefix"), [("openai", "/v1"), ("openrouter", "/api/v1")])
async def test_cloud_chat(
    core: RunningCore, http: httpx.AsyncClient, provider: str, prefix: str
) -> None:
    fake = FakeOpenAI("127.0.0.4", prefix=prefix, api_key="sk-secret")
    async with serving(fake):
        settings = {
            f"{provider}_api_key": "sk-secret",
            f"{provider}_base_url": fake.base_url,
            f"{provider}_model": "default-model",
        }
        async with provider_worker(core.grpc_addr, **settings) as w:
            assert f"{provider}.chat" in w.kinds
            job_id = await submit(
                http,
                kind=f"{provider}.chat",
                payload={"messages": [{"role": "user", "content": "ping"}], "max_tokens": 5},
            )
            job = await finished(http, job_id)
    assert job["status"] == "done", job["error"]
    assert job["result"]["text"] == "re: ping"
    assert job["result"]["data"]["choices"][0]["message"]["content"] == "re: ping"
    assert fake.requests[0][1]["model"] == "default-model"
    assert fake.requests[0][1]["max_tokens"] == 5
    metrics = job["metrics"]
    assert metrics["provider"] == provider and metrics["model"] == "default-model"
    assert metrics["tokens_in"] == 3 and metrics["tokens_out"] == 7 and metrics["tps"] > 0
    assert metrics["device_id"] is None


async def test_worker_offers_cloud_kinds_only_with_their_key(core: RunningCore) -> None:
    async with provider_worker(core.grpc_addr) as w:
        assert "ollama.generate" in w.kinds and "echo" in w.kinds
        assert "openai.chat" not in w.kinds and "openrouter.chat" not in w.kinds


@pytest.mark.slow
async def test_benchmarks_run_report_and_list(
    core: RunningCore, http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    async with serving(FakeOllama("127.0.0.5", tps=40, eval_count=8)) as ollama:
        await add_device(db, "bench.ts.net.", ollama.url)
        async with provider_worker(core.grpc_addr):
            answer = await http.post(
                "/v1/benchmarks/run",
                json={
                    "provider": "ollama",
                    "model": "llama3.2:1b",
                    "task_type": "generate",
                    "prompt": "test",
                    "runs": 3,
                    "device_id": "bench.ts.net.",
                },
            )
            assert answer.status_code == 201, answer.text
            job_ids = answer.json()["job_ids"]
            assert len(job_ids) == 3
            jobs = [await finished(http, j) for j in job_ids]
    assert all(j["status"] == "done" for j in jobs)
    assert jobs[0]["result"]["tps"] == 40.0 and jobs[0]["result"]["tokens_out"] == 8
    listed = (await http.get("/v1/benchmarks", params={"limit": 20})).json()["benchmarks"]
    assert len(listed) == 3
    assert {b["job_id"] for b in listed} == set(job_ids)
    first = listed[0]
    assert first["device_id"] == "bench.ts.net." and first["model"] == "llama3.2:1b"
    assert first["task_type"] == "generate" and first["ok"] is True and first["tps"] == 40.0
    assert listed[0]["created_at"] >= listed[-1]["created_at"]
    stats = await db.fetchrow("SELECT * FROM device_model_stats WHERE device_id = 'bench.ts.net.'")
    assert stats["samples"] == 3 and stats["tps"] == 40.0


@pytest.mark.slow
async def test_4xx_is_not_retried_and_the_device_stays_online(
    core: RunningCore, http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    fake = FakeOllama("127.0.0.6")
    fake.errors.append(CannedError(400, {"error": "invalid option num_gpu"}))
    async with serving(fake):
        await add_device(db, "d4.", fake.url)
        async with provider_worker(core.grpc_addr):
            job_id = await submit(
                http, kind="ollama.generate", device_id="d4.", payload={"prompt": "x"}
            )
            job = await finished(http, job_id)
    assert job["status"] == "error" and job["attempts"] == 1
    assert "400" in job["error"] and "invalid option num_gpu" in job["error"]
    assert await db.fetchval("SELECT online FROM devices WHERE id = 'd4.'") is True


@pytest.mark.slow
async def test_5xx_is_retried_then_succeeds(
    core: RunningCore, http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    fake = FakeOllama("127.0.0.7")
    fake.errors.append(CannedError(500, {"error": "llama runner process has terminated"}))
    async with serving(fake):
        await add_device(db, "d5.", fake.url)
        async with provider_worker(core.grpc_addr):
            job_id = await submit(
                http, kind="ollama.generate", device_id="d5.", payload={"prompt": "x"}
            )
            job = await finished(http, job_id)
    assert job["status"] == "done" and job["attempts"] == 2
    assert len(fake.requests) == 2


@pytest.mark.slow
async def test_connection_refused_is_retried_and_marks_the_device_offline(
    core: RunningCore, http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    await add_device(db, "gone.", closed_port("127.0.0.8"))
    async with provider_worker(core.grpc_addr):
        job_id = await submit(
            http, kind="ollama.generate", device_id="gone.", payload={"prompt": "x"}, max_attempts=2
        )
        job = await finished(http, job_id)
    assert job["status"] == "error" and job["attempts"] == 2
    assert "unreachable" in job["error"] and "ConnectError" in job["error"]
    row = await db.fetchrow("SELECT online, offline_reason FROM devices WHERE id = 'gone.'")
    assert row["online"] is False and "ConnectError" in (row["offline_reason"] or "")


@pytest.mark.slow
async def test_429_waits_for_retry_after(
    core: RunningCore, http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    fake = FakeOpenAI("127.0.0.10", api_key="k")
    fake.errors.append(rate_limited(30))
    async with serving(fake):
        async with provider_worker(
            core.grpc_addr, openai_api_key="k", openai_base_url=fake.base_url
        ):
            job_id = await submit(http, kind="openai.chat", payload={"prompt": "x"})

            async def requeued() -> dict[str, Any] | None:
                job = (await http.get(f"/v1/jobs/{job_id}")).json()
                return job if job["status"] == "queued" and job["attempts"] == 1 else None

            job = await eventually(requeued)
    wait = datetime.fromisoformat(job["run_after"]) - datetime.fromisoformat(job["updated_at"])
    assert 29 <= wait.total_seconds() <= 31
    assert "429" in job["error"] and "Rate limit reached" in job["error"]


async def test_cloud_auth_error_is_not_retried(core: RunningCore, http: httpx.AsyncClient) -> None:
    fake = FakeOpenAI("127.0.0.11", prefix="/api/v1", api_key="right")
    async with serving(fake):
        async with provider_worker(
            core.grpc_addr, openrouter_api_key="wrong", openrouter_base_url=fake.base_url
        ):
            job_id = await submit(http, kind="openrouter.chat", payload={"prompt": "x"})
            job = await finished(http, job_id)
    assert job["status"] == "error" and job["attempts"] == 1
    assert "401" in job["error"] and "Incorrect API key" in job["error"]


async def test_a_failed_benchmark_is_listed_as_not_ok(
    core: RunningCore, http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    await add_device(db, "down.", closed_port("127.0.0.12"))
    async with provider_worker(core.grpc_addr):
        answer = await http.post(
            "/v1/benchmarks/run",
            json={"model": "llama3.2:1b", "task_type": "embed", "runs": 1, "device_id": "down."},
        )
        assert answer.status_code == 201, answer.text

        async def listed() -> list[dict[str, Any]]:
            return (await http.get("/v1/benchmarks")).json()["benchmarks"]

        [bench, *_] = await eventually(listed)
    assert bench["ok"] is False and bench["task_type"] == "embed"
    assert bench["device_id"] == "down." and "unreachable" in bench["error"]
    assert await db.fetchval("SELECT count(*) FROM device_model_stats") == 0
