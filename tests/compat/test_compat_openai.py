"""The official openai client, unchanged, pointed at core: chat (plain and streamed),
embeddings, models, errors; each request a routed job in the queue."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import openai
import pytest

from testkit.compat import EMBED_MODEL, MODEL, Fleet, compat_fleet


@pytest.fixture
async def fleet(database_url: str, db: asyncpg.Connection) -> AsyncIterator[Fleet]:
    async with compat_fleet(database_url, db, cloud=True) as f:
        yield f


@pytest.fixture
async def client(fleet: Fleet) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=f"{fleet.core.http_url}/v1", api_key="unused", max_retries=0
    ) as c:
        yield c


async def test_chat_completion_runs_on_the_device(
    fleet: Fleet, client: openai.AsyncOpenAI, db: asyncpg.Connection
) -> None:
    answer = await client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hello there"}]
    )
    assert answer.choices[0].message.content == "echo: hello there"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None and answer.usage.completion_tokens == 20
    # A routed job in the queue, on the device, with the conversation as Ollama chat.
    row = await db.fetchrow("SELECT * FROM jobs WHERE source = 'openai-compat'")
    assert row["status"] == "done" and row["device_id"] == "gpu1.ts.net."
    path, body, _ = fleet.ollama.requests[-1]
    assert path == "/api/chat" and body["stream"] is False
    assert body["messages"] == [{"role": "user", "content": "hello there"}]


async def test_streamed_chat_arrives_in_order_and_adds_up_to_the_stored_result(
    fleet: Fleet, client: openai.AsyncOpenAI, db: asyncpg.Connection
) -> None:
    fleet.ollama.chunk_delay = 0.01
    words = " ".join(f"w{i}" for i in range(40))
    stream = await client.chat.completions.create(
        model=f"ollama/{MODEL}",
        messages=[{"role": "user", "content": words}],
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces: list[str] = []
    finish = None
    usage = None
    async for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            pieces.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    assert "".join(pieces) == f"echo: {words}"
    assert len([p for p in pieces if p]) > 1, "streamed in more than one chunk"
    assert finish == "stop" and usage is not None and usage.completion_tokens == 20
    row = await db.fetchrow("SELECT id, result FROM jobs WHERE source = 'openai-compat'")
    import json

    assert json.loads(row["result"])["response"] == "".join(pieces)
    progress = await db.fetchval(
        "SELECT count(*) FROM job_events WHERE job_id = $1 AND type = 'progress'", row["id"]
    )
    assert 1 < progress < 42, "chunks batched into fewer events than tokens"


async def test_cloud_model_by_prefix_streams_from_openai(
    fleet: Fleet, client: openai.AsyncOpenAI
) -> None:
    stream = await client.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "a b c"}], stream=True
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "re: a b c"
    assert fleet.cloud is not None and fleet.cloud.requests[-1][1]["stream"] is True


async def test_embeddings(fleet: Fleet, client: openai.AsyncOpenAI) -> None:
    answer = await client.embeddings.create(model=EMBED_MODEL, input=["one", "three"])
    assert [d.index for d in answer.data] == [0, 1]
    assert answer.data[1].embedding == [0.5, -0.25, 5.0]
    assert fleet.ollama.requests[-1][0] == "/api/embed"


async def test_models_list_in_openai_shape_and_the_fleet_shape(
    fleet: Fleet, client: openai.AsyncOpenAI
) -> None:
    ids = [m.id async for m in client.models.list()]
    assert ids[0] == "auto" and MODEL in ids and "openai/gpt-4o-mini" in ids
    async with httpx.AsyncClient(base_url=fleet.core.http_url) as http:
        view = (await http.get("/v1/models")).json()
    assert MODEL in [m["name"] for m in view["models"]]


async def test_unknown_model_is_openais_404_before_any_job(
    client: openai.AsyncOpenAI, db: asyncpg.Connection
) -> None:
    for model in ("ollama/nope:7b", "nope:7b"):
        with pytest.raises(openai.NotFoundError) as caught:
            await client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": "x"}]
            )
        error = caught.value.body
        assert isinstance(error, dict) and "nope:7b" in error["message"]
        assert error["code"] == "model_not_found" and error["type"] == "invalid_request_error"
    assert await db.fetchval("SELECT count(*) FROM jobs") == 0


async def test_bad_body_is_an_openai_error_and_writes_nothing(
    fleet: Fleet, db: asyncpg.Connection
) -> None:
    async with httpx.AsyncClient(base_url=fleet.core.http_url) as http:
        response = await http.post("/v1/chat/completions", json={"model": MODEL, "messages": []})
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    assert await db.fetchval("SELECT count(*) FROM jobs") == 0


async def test_failed_job_is_an_api_error(fleet: Fleet, client: openai.AsyncOpenAI) -> None:
    from testkit.fakes.server import CannedError

    fleet.ollama.errors.append(CannedError(400, {"error": "invalid options"}))
    with pytest.raises(openai.APIStatusError) as caught:
        await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}]
        )
    assert caught.value.status_code == 502 and "invalid options" in caught.value.message


async def test_auto_routes_by_the_rules(fleet: Fleet, client: openai.AsyncOpenAI) -> None:
    cloud = await client.chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": "q"}]
    )
    assert cloud.headers["x-llm-mcp-provider"] == "openai"  # rule 4: clouds first
    assert cloud.parse().choices[0].message.content == "re: q"
    local = await client.chat.completions.with_raw_response.create(
        model="auto",
        messages=[{"role": "user", "content": "q"}],
        extra_body={"prefer_local": True},
    )
    assert local.headers["x-llm-mcp-provider"] == "ollama"
    assert local.headers["x-llm-mcp-device"] == "gpu1.ts.net."


@pytest.mark.slow
async def test_a_client_leaving_mid_stream_cancels_its_job(
    fleet: Fleet, db: asyncpg.Connection
) -> None:
    from testkit.support import eventually

    fleet.ollama.chunk_delay = 0.2
    body = {
        "model": MODEL,
        "stream": True,
        "messages": [{"role": "user", "content": " ".join(["w"] * 50)}],
    }
    async with httpx.AsyncClient(base_url=fleet.core.http_url, timeout=30) as http:
        async with http.stream("POST", "/v1/chat/completions", json=body) as response:
            job_id = response.headers["x-llm-mcp-job-id"]
            async for line in response.aiter_lines():
                if '"content":"' in line and '"content":""' not in line:
                    break  # the first token: now hang up

    async def canceled() -> bool:
        return await db.fetchval("SELECT status FROM jobs") == "canceled"

    await eventually(canceled, within=10)
    # The worker hung up on the device too, long before the answer's 10 s were over.
    await eventually(lambda: fleet.ollama.streams_open == 0, within=5)
    assert job_id


async def test_a_stream_broken_mid_answer_is_retried_without_repeating_tokens(
    fleet: Fleet, client: openai.AsyncOpenAI, db: asyncpg.Connection
) -> None:
    fleet.ollama.chunk_delay = 0.02  # the first chunks reach the client before the break
    fleet.ollama.cut_streams = 1
    words = " ".join(f"r{i}" for i in range(10))
    stream = await client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": words}], stream=True
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == f"echo: {words}"
    assert await db.fetchval("SELECT attempts FROM jobs") == 2


async def test_tool_calls_round_trip_through_a_cloud(
    fleet: Fleet, client: openai.AsyncOpenAI
) -> None:
    tools = [{"type": "function", "function": {"name": "get_time", "parameters": {}}}]
    asked = await client.chat.completions.create(
        model="openai/gpt-4o-mini",
        messages=[{"role": "user", "content": "what time is it?"}],
        tools=tools,
    )
    choice = asked.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls and choice.message.tool_calls[0].function.name == "get_time"
    answered = await client.chat.completions.create(
        model="openai/gpt-4o-mini",
        messages=[
            {"role": "user", "content": "what time is it?"},
            choice.message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": "call_1", "content": "noon"},
        ],
        tools=tools,
    )
    assert answered.choices[0].message.content == "re: noon"
    assert fleet.cloud is not None
    sent = fleet.cloud.requests[-1][1]["messages"]
    assert sent[1]["tool_calls"][0]["id"] == "call_1" and sent[2]["tool_call_id"] == "call_1"
