"""The official anthropic client, unchanged, pointed at core (as Claude Code is with
ANTHROPIC_BASE_URL): messages plain and streamed, tools with a tool_result round trip,
count_tokens, errors in Anthropic's shape; each message a routed job in the queue."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import anthropic
import asyncpg
import httpx
import pytest

from testkit.compat import MODEL, Fleet, compat_fleet
from testkit.fakes.server import CannedError
from testkit.support import eventually

TOKEN = "s3cret-token"
TOOLS = [
    {
        "name": "get_time",
        "description": "The time now",
        "input_schema": {"type": "object", "properties": {}},
    }
]


@pytest.fixture
async def fleet(database_url: str, db: asyncpg.Connection) -> AsyncIterator[Fleet]:
    async with compat_fleet(database_url, db, cloud=True, api_token=TOKEN) as f:
        yield f


def client_for(fleet: Fleet, **auth: str) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=fleet.core.http_url, max_retries=0, **auth)


async def test_messages_plain_streamed_and_thinking_run_on_the_device(
    fleet: Fleet, db: asyncpg.Connection
) -> None:
    fleet.ollama.chunk_delay = 0.01
    async with client_for(fleet, api_key=TOKEN) as client:
        answer = await client.messages.create(
            model=MODEL,
            max_tokens=64,
            system="be brief",
            messages=[{"role": "user", "content": "hello there"}],
            extra_body={"top_k": 5},
        )
        assert answer.content[0].type == "text" and answer.content[0].text == "echo: hello there"
        assert answer.stop_reason == "end_turn" and answer.usage.output_tokens == 20
        path, body, _ = fleet.ollama.requests[-1]
        assert path == "/api/chat" and body["messages"][0] == {
            "role": "system",
            "content": "be brief",
        }
        assert body["options"]["top_k"] == 5 and body["options"]["num_predict"] == 64

        words = " ".join(f"w{i}" for i in range(12))
        async with client.messages.stream(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": words}]
        ) as stream:
            pieces = [text async for text in stream.text_stream]
            final = await stream.get_final_message()
    assert "".join(pieces) == f"echo: {words}" and len(pieces) > 1
    assert final.content[0].text == f"echo: {words}" and final.stop_reason == "end_turn"
    rows = await db.fetch("SELECT status, device_id FROM jobs WHERE source = 'anthropic-compat'")
    assert [(r["status"], r["device_id"]) for r in rows] == [("done", "gpu1.ts.net.")] * 2

    # A thinking model's reasoning comes as thinking blocks when the client asks for them.
    fleet.ollama.thinking = "first the greeting"
    async with (
        client_for(fleet, api_key=TOKEN) as client,
        client.messages.stream(
            model=MODEL,
            max_tokens=2000,
            thinking={"type": "enabled", "budget_tokens": 1024},
            messages=[{"role": "user", "content": "hi"}],
        ) as stream,
    ):
        thought = await stream.get_final_message()
    assert [b.type for b in thought.content] == ["thinking", "text"]
    assert thought.content[0].thinking == "first the greeting"  # type: ignore[union-attr]
    assert thought.content[1].text == "echo: hi"  # type: ignore[union-attr]


async def test_tool_use_and_tool_result_round_trip(fleet: Fleet) -> None:
    question = {"role": "user", "content": "what time is it?"}
    async with client_for(fleet, auth_token=TOKEN) as client:  # Authorization: Bearer
        asked = await client.messages.create(
            model="openai/gpt-4o-mini", max_tokens=100, messages=[question], tools=TOOLS
        )
        assert asked.stop_reason == "tool_use"
        call = asked.content[0]
        assert call.type == "tool_use" and call.name == "get_time" and call.input == {}
        result = {"type": "tool_result", "tool_use_id": call.id, "content": "noon"}
        answered = await client.messages.create(
            model="openai/gpt-4o-mini",
            max_tokens=100,
            messages=[
                question,
                {"role": "assistant", "content": [b.model_dump() for b in asked.content]},
                {"role": "user", "content": [result]},
            ],
            tools=TOOLS,
        )
    assert answered.content[0].text == "re: noon"
    assert fleet.cloud is not None
    sent = fleet.cloud.requests[-1][1]
    assert sent["tools"][0]["function"]["name"] == "get_time"
    assert sent["messages"][1]["tool_calls"][0]["id"] == call.id
    assert sent["messages"][2] == {"role": "tool", "tool_call_id": call.id, "content": "noon"}


async def test_count_tokens_unknown_model_and_a_wrong_key(
    fleet: Fleet, db: asyncpg.Connection
) -> None:
    async with client_for(fleet, api_key=TOKEN) as client:
        counted = await client.messages.count_tokens(
            model=MODEL, messages=[{"role": "user", "content": "count these words please"}]
        )
        assert 3 < counted.input_tokens < 30
        with pytest.raises(anthropic.NotFoundError) as missing:
            await client.messages.create(
                model="ollama/nope:7b", max_tokens=10, messages=[{"role": "user", "content": "x"}]
            )
        assert missing.value.body["error"]["type"] == "not_found_error"
    async with client_for(fleet, api_key="wrong") as client:
        with pytest.raises(anthropic.AuthenticationError):
            await client.messages.create(
                model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "x"}]
            )
    assert await db.fetchval("SELECT count(*) FROM jobs") == 0


async def test_a_hang_up_cancels_the_job_and_a_failure_is_an_error_event(
    fleet: Fleet, db: asyncpg.Connection
) -> None:
    fleet.ollama.chunk_delay = 0.2
    body = {
        "model": MODEL,
        "max_tokens": 100,
        "stream": True,
        "messages": [{"role": "user", "content": " ".join(["w"] * 50)}],
    }
    async with (
        httpx.AsyncClient(base_url=fleet.core.http_url, timeout=30) as http,
        http.stream("POST", "/v1/messages", json=body, headers={"x-api-key": TOKEN}) as answer,
    ):
        async for line in answer.aiter_lines():
            if '"text_delta"' in line:
                break  # the first token: now hang up

    async def canceled() -> bool:
        return await db.fetchval("SELECT status FROM jobs") == "canceled"

    await eventually(canceled, within=10)
    # The worker hung up on the device too, long before the answer's 10 s were over.
    await eventually(lambda: fleet.ollama.streams_open == 0, within=5)
    fleet.ollama.chunk_delay = 0.0
    fleet.ollama.errors.append(CannedError(400, {"error": "invalid options"}))
    async with client_for(fleet, api_key=TOKEN) as client:
        with pytest.raises(anthropic.APIStatusError) as caught:
            async with client.messages.stream(
                model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "x"}]
            ) as stream:
                async for _ in stream:
                    pass
    assert "invalid options" in str(caught.value.body)
    # A bad body before any job: a 400 in Anthropic's shape.
    async with httpx.AsyncClient(base_url=fleet.core.http_url) as http:
        bad = await http.post(
            "/v1/messages", headers={"x-api-key": TOKEN}, json={"model": MODEL, "messages": []}
        )
    assert bad.status_code == 400
    assert bad.json()["type"] == "error"
    assert bad.json()["error"]["type"] == "invalid_request_error"
    assert json.loads(bad.text)["error"]["message"]
