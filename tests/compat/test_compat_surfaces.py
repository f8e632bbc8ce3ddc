"""What Ollama and OpenAI clients call besides chat, with the official clients unchanged:
Ollama's health probe, show, ps, pull (onto a device, with progress), the model-management
routes core does not serve (501), unknown models (404 in each API's shape, no job written);
OpenAI's models.retrieve and embeddings (untagged names, dimensions, token arrays)."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import asyncpg
import httpx
import ollama
import openai
import pytest

from testkit.compat import EMBED_MODEL, MODEL, Fleet, compat_fleet
from testkit.fakes.ollama import FakeOllama


@pytest.fixture
async def fleet(database_url: str, db: asyncpg.Connection) -> AsyncIterator[Fleet]:
    fake = FakeOllama("127.0.0.2", models=[MODEL, EMBED_MODEL], loaded=[MODEL])
    fake.pullable = ["qwen3:0.6b"]
    async with compat_fleet(database_url, db, ollama=fake) as f:
        yield f


async def test_ollama_probe_show_ps_pull_and_what_core_does_not_serve(
    fleet: Fleet, db: asyncpg.Connection
) -> None:
    async with httpx.AsyncClient(base_url=fleet.core.http_url) as http:
        probe = await http.get("/")
        assert probe.status_code == 200 and probe.text == "Ollama is running"
        assert (await http.head("/")).status_code == 200
        for method, path in [("POST", "/api/copy"), ("DELETE", "/api/delete")]:
            refused = await http.request(method, path, json={"model": MODEL})
            assert refused.status_code == 501 and "not available" in refused.json()["error"]
    client = ollama.AsyncClient(host=fleet.core.http_url)
    shown = await client.show(MODEL)
    assert shown.details is not None and shown.details.family == "llama"
    assert shown.modelinfo is not None and shown.modelinfo["llama.context_length"] == 131072
    loaded = await client.ps()
    assert [m.model for m in loaded.models] == [MODEL]
    async with httpx.AsyncClient(base_url=fleet.core.http_url) as http:
        assert (await http.get("/api/ps")).json()["models"][0]["device"] == "gpu1.ts.net."
    progress = [p async for p in await client.pull("qwen3:0.6b", stream=True)]
    assert progress[0].status == "pulling manifest" and progress[-1].status == "success"
    assert [p.completed for p in progress if p.completed is not None] == [0, 500, 1000]
    assert fleet.ollama.requests[-1][0] == "/api/pull"
    with pytest.raises(ollama.ResponseError, match="file does not exist"):
        await client.pull("nope:1b", stream=False)
    for call in (
        client.show("nope:1b"),
        client.chat(model="nope:1b", messages=[{"role": "user", "content": "x"}]),
        client.generate(model="nope", prompt="x"),
    ):
        with pytest.raises(ollama.ResponseError) as caught:
            await call
        assert caught.value.status_code == 404 and caught.value.error.startswith("model 'nope")
    assert await db.fetchval("SELECT count(*) FROM jobs") == 0


@pytest.mark.slow
async def test_untagged_names_and_openai_models_and_embeddings(fleet: Fleet) -> None:
    client = ollama.AsyncClient(host=fleet.core.http_url)
    # The device lists nomic-embed-text:latest; the client asks without the tag.
    assert EMBED_MODEL.endswith(":latest")
    untagged = EMBED_MODEL.removesuffix(":latest")
    answer = await client.embed(model=untagged, input="abc")
    assert [list(v) for v in answer.embeddings] == [[0.5, -0.25, 3.0]]
    assert fleet.ollama.requests[-1][1]["model"] == EMBED_MODEL
    async with openai.AsyncOpenAI(
        base_url=f"{fleet.core.http_url}/v1", api_key="unused", max_retries=0
    ) as oa:
        model = await oa.models.retrieve(untagged)
        assert model.id == EMBED_MODEL and model.owned_by == "ollama"
        assert (await oa.models.retrieve("auto")).id == "auto"
        with pytest.raises(openai.NotFoundError):
            await oa.models.retrieve("nope:1b")
        cut = await oa.embeddings.create(model=untagged, input=["abcd"], dimensions=2)
        vector = cut.data[0].embedding
        assert len(vector) == 2 and math.isclose(math.hypot(*vector), 1.0, rel_tol=1e-6)
        assert fleet.ollama.requests[-1][1]["dimensions"] == 2
        with pytest.raises(openai.BadRequestError, match="token arrays"):
            await oa.embeddings.create(model=untagged, input=[[1, 2, 3]])
