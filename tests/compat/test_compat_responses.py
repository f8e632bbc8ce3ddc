"""The official openai client, unchanged, on core's legacy completions and stateless
Responses API: plain and streamed, a function tool round trip, what needs stored state
refused; each request a routed job."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import openai
import pytest

from testkit.compat import MODEL, Fleet, compat_fleet
from testkit.fakes.server import CannedError

TOOL = {
    "type": "function",
    "name": "get_time",
    "description": "The time now",
    "parameters": {"type": "object", "properties": {}},
}


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


@pytest.mark.slow
async def test_legacy_completions_plain_and_streamed(
    fleet: Fleet, client: openai.AsyncOpenAI, db: asyncpg.Connection
) -> None:
    fleet.ollama.chunk_delay = 0.01
    answer = await client.completions.create(
        model=MODEL, prompt="once upon", max_tokens=12, stop=["\n"], top_p=0.9
    )
    assert answer.object == "text_completion"
    assert answer.choices[0].text == "echo: once upon" and answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None and answer.usage.completion_tokens == 20
    # A real completion on the device: Ollama's generate, sampling fields as its options.
    path, body, _ = fleet.ollama.requests[-1]
    assert path == "/api/generate" and body["prompt"] == "once upon"
    assert body["options"] == {"top_p": 0.9, "stop": ["\n"], "num_predict": 12}

    stream = await client.completions.create(model=MODEL, prompt="a b c d e", stream=True)
    pieces = [c.choices[0].text async for c in stream if c.choices]
    assert "".join(pieces) == "echo: a b c d e" and len([p for p in pieces if p]) > 1

    two = await client.completions.create(model="openai/gpt-4o-mini", prompt=["one", "two"])
    assert [c.text for c in two.choices] == ["re: one", "re: two"]
    assert [c.index for c in two.choices] == [0, 1]
    sources = await db.fetch("SELECT source, status FROM jobs")
    assert {(r["source"], r["status"]) for r in sources} == {("openai-compat", "done")}
    assert len(sources) == 4
    with pytest.raises(openai.BadRequestError, match="token arrays"):
        await client.completions.create(model=MODEL, prompt=[[1, 2, 3]])


@pytest.mark.slow
async def test_responses_plain_and_streamed(fleet: Fleet, client: openai.AsyncOpenAI) -> None:
    fleet.ollama.chunk_delay = 0.01
    answer = await client.responses.create(
        model=MODEL, instructions="be brief", input="hello there", store=False
    )
    assert answer.status == "completed" and answer.output_text == "echo: hello there"
    assert answer.usage is not None and answer.usage.output_tokens == 20
    _, body, _ = fleet.ollama.requests[-1]
    assert body["messages"][0] == {"role": "system", "content": "be brief"}

    words = " ".join(f"w{i}" for i in range(10))
    deltas = []
    turn = [{"role": "user", "content": words}]
    async with client.responses.stream(model=MODEL, input=turn) as s:  # type: ignore[arg-type]
        async for event in s:
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        final = await s.get_final_response()
    assert "".join(deltas) == f"echo: {words}" and len(deltas) > 1
    assert final.output_text == f"echo: {words}" and final.status == "completed"

    # A failure after the stream started: response.failed, as OpenAI streams it.
    fleet.ollama.errors.append(CannedError(400, {"error": "invalid options"}))
    raw = await client.responses.create(model=MODEL, input="x", stream=True)
    events = [e async for e in raw]
    assert events[0].type == "response.created"
    assert events[-1].type == "response.failed"
    assert "invalid options" in events[-1].response.error.message


async def test_responses_function_call_round_trip(
    fleet: Fleet, client: openai.AsyncOpenAI, db: asyncpg.Connection
) -> None:
    question = {"role": "user", "content": "what time is it?"}
    asked = await client.responses.create(
        model="openai/gpt-4o-mini", input=[question], tools=[TOOL]
    )
    call = asked.output[0]
    assert call.type == "function_call" and call.name == "get_time" and call.arguments == "{}"
    answered = await client.responses.create(
        model="openai/gpt-4o-mini",
        input=[
            question,
            call.model_dump(exclude_none=True),
            {"type": "function_call_output", "call_id": call.call_id, "output": "noon"},
        ],
        tools=[TOOL],
    )
    assert answered.output_text == "re: noon"
    assert fleet.cloud is not None
    sent = fleet.cloud.requests[-1][1]
    assert sent["tools"][0] == {
        "type": "function",
        "function": {k: TOOL[k] for k in ("name", "description", "parameters")},
    }
    assert sent["messages"][1]["tool_calls"][0]["id"] == call.call_id
    assert sent["messages"][2] == {"role": "tool", "tool_call_id": call.call_id, "content": "noon"}

    before = await db.fetchval("SELECT count(*) FROM jobs")
    with pytest.raises(openai.BadRequestError, match="stateless"):
        await client.responses.create(model=MODEL, input="more", previous_response_id=answered.id)
    with pytest.raises(openai.BadRequestError, match="store"):
        await client.responses.create(model=MODEL, input="more", store=True)
    with pytest.raises(openai.NotFoundError):
        await client.responses.create(model="ollama/nope:7b", input="x")
    assert await db.fetchval("SELECT count(*) FROM jobs") == before
