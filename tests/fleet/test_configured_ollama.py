"""The Ollama at OLLAMA_BASE_URL is a device of the fleet, with no tailnet at all: listed by
/api/tags and /v1/models, routable, shown offline with the reason when it stops answering.
And the full /v1/llm/request example of the docs answers (its cloud model runs on the cloud)."""

from __future__ import annotations

import contextlib

import httpx
import ollama
import pytest

from testkit.fakes.ollama import FakeOllama
from testkit.fakes.openai import FakeOpenAI
from testkit.fakes.server import closed_port, serving
from testkit.support import eventually, provider_worker, start_core

FULL_REQUEST = {
    "task": "chat",
    "provider": "auto",
    "model": "gpt-4o-mini",
    "prompt": "Summarise the text",
    "messages": [{"role": "user", "content": "..."}],
    "temperature": 0.2,
    "max_tokens": 200,
    "priority": 1,
    "source": "channel-mcp",
    "constraints": {"prefer_local": True, "force_cloud": False, "max_latency_ms": 3000},
}


@pytest.mark.slow
async def test_only_ollama_base_url_set(database_url: str) -> None:
    fake = FakeOllama("127.0.0.2", models=["llama3.2:1b", "nomic-embed-text:latest"])
    ollama_up = contextlib.AsyncExitStack()
    await ollama_up.enter_async_context(serving(fake))
    async with (
        ollama_up,
        serving(FakeOpenAI("127.0.0.3")) as cloud,
        start_core(
            database_url,
            ollama_base_url=fake.url,
            tailscale_bin="/nonexistent/tailscale",
            device_max_concurrency=8,
        ) as core,
        # The worker's own OLLAMA_BASE_URL leads nowhere: jobs reach the device through core.
        provider_worker(
            core.grpc_addr,
            worker_concurrency=40,
            ollama_base_url=closed_port(),
            openai_api_key="sk-test",
            openai_base_url=cloud.base_url,  # type: ignore[attr-defined]
        ),
        httpx.AsyncClient(base_url=core.http_url, timeout=30) as http,
    ):
        device_id = f"127.0.0.2:{fake.port}"
        client = ollama.AsyncClient(host=core.http_url)
        names = sorted(m.model for m in (await client.list()).models)
        assert names == ["llama3.2:1b", "nomic-embed-text:latest"]
        # A pull onto it: the fleet lists the model as soon as the pull succeeds.
        fake.pullable = ["qwen3:0.6b"]
        pulled = await client.pull("qwen3:0.6b", stream=False)
        assert pulled.status == "success"
        assert "qwen3:0.6b" in [m.model for m in (await client.list()).models]
        listed = (await http.get("/v1/models")).json()["data"]
        assert "llama3.2:1b" in [m["id"] for m in listed]
        routed = await http.post(
            "/v1/chat/completions",
            json={"model": "llama3.2:1b", "messages": [{"role": "user", "content": "hi"}]},
        )
        assert routed.headers["x-llm-mcp-device"] == device_id
        assert routed.json()["choices"][0]["message"]["content"] == "echo: hi"
        # gpt-4o-mini under prefer_local is a cloud model, so the cloud runs it.
        answer = await http.post("/v1/llm/request", json=FULL_REQUEST)
        assert answer.status_code == 201, answer.text
        assert answer.json()["provider"] == "openai"
        assert "model gpt-4o-mini: served by openai" in answer.json()["reason"]
        job_id = answer.json()["job_id"]

        async def finished() -> dict | None:
            job = (await http.get(f"/v1/jobs/{job_id}")).json()
            return job if job["status"] in ("done", "error") else None

        job = await eventually(finished)
        assert job["status"] == "done" and job["result"]["text"] == "re: ..."
        unknown = await http.post("/v1/llm/request", json={**FULL_REQUEST, "model": "mistral:7b"})
        assert unknown.status_code == 422 and "mistral:7b" in unknown.json()["error"]["message"]
        assert unknown.json()["error"]["code"] == "model_not_found"

        # Ollama stops: the next round lists the device offline, saying why.
        await ollama_up.aclose()
        summary = (await http.post("/v1/discovery/run")).json()["summary"]
        assert "OLLAMA_BASE_URL" in summary["errors"][device_id]
        devices = {d["id"]: d for d in (await http.get("/v1/devices")).json()["devices"]}
        assert devices[device_id]["online"] is False
        assert "connection failed" in devices[device_id]["offline_reason"]
