"""The official ollama client, unchanged, pointed at core: generate, chat (streamed and not),
embed, legacy embeddings, tags, version; errors in Ollama's shape."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import asyncpg
import httpx
import ollama
import pytest

from testkit.compat import EMBED_MODEL, MODEL, Fleet, compat_fleet
from testkit.fakes.ollama import FakeOllama


@pytest.fixture
async def fleet(database_url: str, db: asyncpg.Connection) -> AsyncIterator[Fleet]:
    fake = FakeOllama("127.0.0.2", models=[MODEL, EMBED_MODEL], chunk_delay=0.005)
    async with compat_fleet(database_url, db, ollama=fake) as f:
        yield f


@pytest.fixture
def client(fleet: Fleet) -> ollama.AsyncClient:
    return ollama.AsyncClient(host=fleet.core.http_url)


async def test_generate_and_chat_without_streaming(
    fleet: Fleet, client: ollama.AsyncClient
) -> None:
    answer = await client.generate(model=MODEL, prompt="hi there", stream=False)
    assert answer.response == "echo: hi there" and answer.done
    assert answer.eval_count == 20
    chat = await client.chat(
        model=MODEL, messages=[{"role": "user", "content": "how are you"}], stream=False
    )
    assert chat.message.content == "echo: how are you" and chat.message.role == "assistant"


async def test_streamed_chat_in_order_and_complete(
    fleet: Fleet, client: ollama.AsyncClient, db: asyncpg.Connection
) -> None:
    words = " ".join(f"t{i}" for i in range(30))
    parts: list[str] = []
    last = None
    async for part in await client.chat(
        model=MODEL, messages=[{"role": "user", "content": words}], stream=True
    ):
        parts.append(part.message.content or "")
        last = part
    assert "".join(parts) == f"echo: {words}"
    assert last is not None and last.done and last.eval_count == 20
    result = json.loads(await db.fetchval("SELECT result FROM jobs"))
    assert result["response"] == "".join(parts)


async def test_streamed_generate(fleet: Fleet, client: ollama.AsyncClient) -> None:
    parts = [
        p.response async for p in await client.generate(model=MODEL, prompt="a b c", stream=True)
    ]
    assert "".join(parts) == "echo: a b c" and len(parts) > 2


async def test_embed_and_legacy_embeddings(fleet: Fleet, client: ollama.AsyncClient) -> None:
    answer = await client.embed(model=EMBED_MODEL, input=["ab", "abcd"])
    assert [list(v) for v in answer.embeddings] == [[0.5, -0.25, 2.0], [0.5, -0.25, 4.0]]
    legacy = await client.embeddings(model=EMBED_MODEL, prompt="abc")
    assert list(legacy.embedding) == [0.5, -0.25, 3.0]


async def test_tags_list_the_fleet_and_version(fleet: Fleet, client: ollama.AsyncClient) -> None:
    names = sorted(m.model for m in (await client.list()).models)
    assert names == sorted([MODEL, EMBED_MODEL])
    async with httpx.AsyncClient(base_url=fleet.core.http_url) as http:
        assert (await http.get("/api/version")).json()["version"]


async def test_unknown_model_is_an_ollama_error(fleet: Fleet, client: ollama.AsyncClient) -> None:
    with pytest.raises(ollama.ResponseError) as caught:
        await client.chat(
            model="mistral:7b", messages=[{"role": "user", "content": "x"}], stream=False
        )
    assert "mistral:7b" in caught.value.error


async def test_thinking_model_answer_split(database_url: str, db: asyncpg.Connection) -> None:
    fake = FakeOllama("127.0.0.2", models=[MODEL, EMBED_MODEL], thinking="let me see")
    async with compat_fleet(database_url, db, ollama=fake) as f:
        client = ollama.AsyncClient(host=f.core.http_url)
        answer = await client.chat(
            model=MODEL, messages=[{"role": "user", "content": "q"}], stream=False
        )
        streamed = [
            (p.message.thinking or "", p.message.content or "")
            async for p in await client.chat(
                model=MODEL, messages=[{"role": "user", "content": "q"}], stream=True
            )
        ]
    assert answer.message.content == "echo: q" and answer.message.thinking == "let me see"
    assert "".join(t for t, _ in streamed) == "let me see"
    assert "".join(c for _, c in streamed) == "echo: q"
