"""Tool calls end to end with the official clients, unchanged: an agent on a fleet model gets
the model's tool calls (streamed and not) and sends the tool's result back; images and
sampling parameters reach the device; what Ollama cannot do is a 400 naming the field."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import ollama
import openai
import pytest

from testkit.compat import MODEL, Fleet, compat_fleet

TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "search",
            "description": "Search the web",
            "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
        },
    }
]
# A 1x1 PNG.
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5E"
    "rkJggg=="
)


@pytest.fixture
async def fleet(database_url: str, db: asyncpg.Connection) -> AsyncIterator[Fleet]:
    async with compat_fleet(database_url, db, cloud=True) as f:
        yield f


async def test_openai_client_tool_calls_on_a_fleet_model(fleet: Fleet) -> None:
    async with openai.AsyncOpenAI(
        base_url=f"{fleet.core.http_url}/v1", api_key="unused", max_retries=0
    ) as client:
        asked = await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "llm-mcp"}], tools=TOOLS
        )
        choice = asked.choices[0]
        assert choice.finish_reason == "tool_calls"
        call = choice.message.tool_calls[0]  # type: ignore[index]
        assert call.function.name == "search"
        assert json.loads(call.function.arguments) == {"query": "llm-mcp"}
        # Streamed: one delta with index and id, then finish_reason tool_calls.
        stream = await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "q"}], tools=TOOLS, stream=True
        )
        deltas, finish = [], None
        async for chunk in stream:
            for c in chunk.choices:
                deltas += c.delta.tool_calls or []
                finish = c.finish_reason or finish
        assert finish == "tool_calls"
        assert deltas[0].index == 0 and deltas[0].id and deltas[0].function.name == "search"
        assert json.loads("".join(d.function.arguments or "" for d in deltas)) == {"query": "q"}
        # The tool's result goes back; Ollama sees its own shape (arguments as an object, the
        # tool message naming its function).
        answered = await client.chat.completions.create(
            model=MODEL,
            messages=[
                {"role": "user", "content": "llm-mcp"},
                choice.message.model_dump(exclude_none=True),
                {"role": "tool", "tool_call_id": call.id, "content": "a job router"},
            ],
            tools=TOOLS,
        )
    assert answered.choices[0].message.content == "echo: a job router"
    sent = fleet.ollama.requests[-1][1]["messages"]
    assert sent[1]["tool_calls"][0]["function"] == {
        "name": "search",
        "arguments": {"query": "llm-mcp"},
    }
    assert sent[2] == {"role": "tool", "content": "a job router", "tool_name": "search"}


async def test_a_cloud_stream_keeps_its_tool_calls(fleet: Fleet) -> None:
    async with openai.AsyncOpenAI(
        base_url=f"{fleet.core.http_url}/v1", api_key="unused", max_retries=0
    ) as client:
        stream = await client.chat.completions.create(
            model="openai/gpt-4o-mini",
            messages=[{"role": "user", "content": "q"}],
            tools=TOOLS,
            stream=True,
        )
        deltas, finish = [], None
        async for chunk in stream:
            for c in chunk.choices:
                deltas += c.delta.tool_calls or []
                finish = c.finish_reason or finish
    assert finish == "tool_calls"
    assert deltas[0].id == "call_9" and deltas[0].function.name == "search"
    assert json.loads("".join(d.function.arguments or "" for d in deltas)) == {"query": "now"}


@pytest.mark.slow
async def test_ollama_client_tools_and_images(fleet: Fleet) -> None:
    client = ollama.AsyncClient(host=fleet.core.http_url)
    answer = await client.chat(
        model=MODEL, messages=[{"role": "user", "content": "x"}], tools=TOOLS, stream=False
    )
    calls = answer.message.tool_calls or []
    assert calls[0].function.name == "search" and calls[0].function.arguments == {"query": "x"}
    streamed = [
        c
        async for part in await client.chat(
            model=MODEL, messages=[{"role": "user", "content": "y"}], tools=TOOLS, stream=True
        )
        for c in part.message.tool_calls or []
    ]
    assert [c.function.arguments for c in streamed] == [{"query": "y"}]
    seen = await client.chat(
        model=MODEL,
        messages=[{"role": "user", "content": "what is it", "images": [PNG]}],
        stream=False,
    )
    assert seen.message.content == "echo: what is it [1 image(s)]"
    generated = await client.generate(model=MODEL, prompt="p", images=[PNG], stream=False)
    assert generated.done and fleet.ollama.requests[-1][1]["images"] == [PNG]
    # Ollama's own fields reach the device as sent; its context comes back.
    native = await client.generate(
        model=MODEL,
        prompt="p",
        system="s",
        raw=True,
        suffix="}",
        template="{{ .Prompt }}",
        context=[7, 8],
        options={"top_k": 5},
        keep_alive="5m",
        format="json",
        stream=False,
    )
    assert native.context == [1, 2, 3]
    body = fleet.ollama.requests[-1][1]
    assert {k: body[k] for k in ("system", "raw", "suffix", "template", "context")} == {
        "system": "s",
        "raw": True,
        "suffix": "}",
        "template": "{{ .Prompt }}",
        "context": [7, 8],
    }
    assert (body["options"], body["keep_alive"], body["format"]) == ({"top_k": 5}, "5m", "json")
    # A cloud model cannot take them: a 400 naming the field, not a silent drop.
    with pytest.raises(ollama.ResponseError, match="raw") as caught:
        await client.generate(model="openai/gpt-4o-mini", prompt="p", raw=True, stream=False)
    assert caught.value.status_code == 400


@pytest.mark.slow
async def test_openai_fields_reach_ollama_or_are_refused_by_name(fleet: Fleet) -> None:
    async with openai.AsyncOpenAI(
        base_url=f"{fleet.core.http_url}/v1", api_key="unused", max_retries=0
    ) as client:
        await client.chat.completions.create(
            model=MODEL,
            messages=[
                {"role": "developer", "content": "be brief"},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "describe"},
                        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                    ],
                },
            ],
            top_p=0.5,
            seed=7,
            stop="END",
            presence_penalty=0.1,
            frequency_penalty=0.2,
            max_completion_tokens=30,
            response_format={"type": "json_object"},
        )
        body = fleet.ollama.requests[-1][1]
        assert body["options"] == {
            "top_p": 0.5,
            "seed": 7,
            "stop": ["END"],
            "presence_penalty": 0.1,
            "frequency_penalty": 0.2,
            "num_predict": 30,
        }
        assert body["format"] == "json"
        assert body["messages"][0] == {"role": "system", "content": "be brief"}
        assert body["messages"][1]["images"] == [PNG]
        schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
        await client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "x"}],
            response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": schema}},
        )
        assert fleet.ollama.requests[-1][1]["format"] == schema
        for fields, named in [
            ({"n": 2}, "n"),
            ({"logprobs": True}, "logprobs"),
            ({"tools": TOOLS, "tool_choice": "required"}, "tool_choice"),
        ]:
            with pytest.raises(openai.BadRequestError, match=named):
                await client.chat.completions.create(
                    model=MODEL, messages=[{"role": "user", "content": "x"}], **fields
                )
        link = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
        with pytest.raises(openai.BadRequestError, match="image_url"):
            await client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": [link]}]
            )
