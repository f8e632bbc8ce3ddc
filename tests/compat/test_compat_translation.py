"""The Anthropic and Responses translations, without servers: requests to the chat shape,
and streamed chunks (text, then tool calls) to events that the official SDKs assemble into
the answer a user reads (the SDKs parse our bytes through an in-memory transport)."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx
import httpx2
import openai
import pytest

from core.compat import anthropic_errors, anthropic_shape, responses_shape
from core.compat.anthropic_stream import MessageEvents
from core.compat.responses_stream import ResponseEvents
from core.errors import InvalidInput, NoRoute, UnknownModel

TEXT_PART = [{"type": "input_text", "text": "q"}]
CALL = {"id": "call_7", "type": "function", "function": {"name": "get_time", "arguments": ""}}


def chunks() -> list[dict[str, Any]]:
    """A streamed chat answer: text in two pieces, then one tool call in two pieces."""
    base = {"id": "chatcmpl-ab12", "object": "chat.completion.chunk", "created": 1, "model": "m"}

    def delta(d: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": d, "finish_reason": finish}]}

    return [
        delta({"role": "assistant", "content": ""}),
        delta({"content": "let me "}),
        delta({"content": "look"}),
        delta({"tool_calls": [{"index": 0, **CALL}]}),
        delta({"tool_calls": [{"index": 0, "function": {"arguments": '{"tz": '}}]}),
        delta({"tool_calls": [{"index": 0, "function": {"arguments": '"UTC"}'}}]}),
        delta({}, "tool_calls"),
        {**base, "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 4}},
    ]


def sse(events: list[tuple[str, dict[str, Any]]]) -> bytes:
    return b"".join(f"event: {n}\ndata: {json.dumps(d)}\n\n".encode() for n, d in events)


def transport(body: bytes, http: Any = httpx) -> Any:
    """An HTTP client (of the SDK's own httpx package) whose every answer is `body`."""

    def answer(_request: Any) -> Any:
        return http.Response(200, content=body, headers={"content-type": "text/event-stream"})

    return http.AsyncClient(transport=http.MockTransport(answer))


async def test_anthropic_sdk_assembles_streamed_text_and_tool_use() -> None:
    translate = MessageEvents("msg_ab12", "m")
    events = translate.start()
    for chunk in chunks():
        events += translate.feed(chunk)
    events += translate.finish()
    client = anthropic.AsyncAnthropic(
        api_key="k", base_url="http://core.test", http_client=transport(sse(events), httpx2)
    )
    async with client.messages.stream(
        model="m", max_tokens=10, messages=[{"role": "user", "content": "time?"}]
    ) as stream:
        message = await stream.get_final_message()
    assert [b.type for b in message.content] == ["text", "tool_use"]
    assert message.content[0].text == "let me look"  # type: ignore[union-attr]
    tool = message.content[1]
    assert tool.type == "tool_use" and tool.id == "call_7" and tool.input == {"tz": "UTC"}
    assert message.stop_reason == "tool_use" and message.usage.output_tokens == 4


async def test_openai_sdk_assembles_streamed_text_and_function_call() -> None:
    body = responses_shape.ResponsesRequest(model="m", input="time?")
    translate = ResponseEvents(body, "ab12", "m", 1)
    events = translate.start()
    for chunk in chunks():
        events += translate.feed(chunk)
    events += translate.finish()
    client = openai.AsyncOpenAI(
        api_key="k", base_url="http://core.test/v1", http_client=transport(sse(events))
    )
    async with client.responses.stream(model="m", input="time?") as stream:
        kinds = [event.type async for event in stream]
        final = await stream.get_final_response()
    assert "response.function_call_arguments.delta" in kinds
    assert final.output_text == "let me look"
    call = final.output[1]
    assert call.type == "function_call" and call.call_id == "call_7"
    assert json.loads(call.arguments) == {"tz": "UTC"}
    assert final.usage is not None and final.usage.input_tokens == 9


def test_anthropic_request_becomes_a_chat_request() -> None:
    body = anthropic_shape.MessagesRequest.model_validate(
        {
            "model": "m",
            "max_tokens": 50,
            "system": [{"type": "text", "text": "sys"}],
            "stop_sequences": ["END"],
            "top_k": 3,
            "tool_choice": {"type": "any"},
            "tools": [{"name": "f", "input_schema": {"type": "object"}}],
            "messages": [
                {"role": "user", "content": "hi"},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}}],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "t1", "content": "42"},
                        {"type": "text", "text": "and?"},
                    ],
                },
            ],
        }
    )
    chat, options = anthropic_shape.chat_request(body)
    assert options == {"top_k": 3}
    assert chat.stop == ["END"] and chat.max_tokens == 50  # type: ignore[attr-defined]
    assert chat.tool_choice == "required"  # type: ignore[attr-defined]
    sent = [m.model_dump(exclude_none=True) for m in chat.messages]
    assert sent[0] == {"role": "system", "content": "sys"}
    assert sent[2]["tool_calls"][0]["function"] == {"name": "f", "arguments": '{"a":1}'}
    assert sent[3] == {"role": "tool", "tool_call_id": "t1", "content": "42"}
    assert sent[4] == {"role": "user", "content": "and?"}
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA"}}
    shot = {"type": "tool_result", "tool_use_id": "t2", "content": [image]}
    parts = anthropic_shape.chat_messages(
        anthropic_shape.CountTokensRequest(
            model="m", messages=[{"role": "user", "content": [shot, image]}]
        )
    )
    # A tool message holds text only: the screenshot follows in the user's message.
    assert parts[0] == {"role": "tool", "tool_call_id": "t2", "content": ""}
    url = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}}
    assert parts[1] == {"role": "user", "content": [url, url]}
    with pytest.raises(InvalidInput, match="server tool"):
        web = {"name": "web", "type": "web_search_20250305"}
        anthropic_shape.chat_request(
            anthropic_shape.MessagesRequest.model_validate({**body.model_dump(), "tools": [web]})
        )


def test_reasoning_is_a_thinking_block_only_when_asked() -> None:
    completion = {
        "id": "chatcmpl-ab12",
        "choices": [
            {
                "message": {"content": "hi", "reasoning_content": "hmm"},
                "finish_reason": "length",
            }
        ],
        "usage": {"prompt_tokens": 2, "completion_tokens": 3},
    }
    asked = anthropic_shape.message(completion, "m", thinking=True)
    assert [b["type"] for b in asked["content"]] == ["thinking", "text"]
    assert asked["stop_reason"] == "max_tokens" and asked["id"] == "msg_ab12"
    assert [b["type"] for b in anthropic_shape.message(completion, "m")["content"]] == ["text"]


def test_anthropic_errors_have_anthropic_types_and_statuses() -> None:
    assert anthropic_errors.error_for(UnknownModel("x")) == (
        404,
        {"type": "error", "error": {"type": "not_found_error", "message": "model 'x' not found"}},
    )
    assert anthropic_errors.error_for(NoRoute("nothing can serve"))[0] == 529
    assert anthropic_errors.error_for(RuntimeError("boom"))[1]["error"]["type"] == "api_error"


def test_responses_items_become_chat_messages_and_state_is_refused() -> None:
    body = responses_shape.ResponsesRequest.model_validate(
        {
            "model": "m",
            "instructions": "sys",
            "text": {"format": {"type": "json_schema", "name": "t", "schema": {"type": "object"}}},
            "input": [
                {"role": "developer", "content": "dev"},
                {"type": "message", "role": "user", "content": TEXT_PART},
                {"type": "reasoning", "id": "rs_1", "summary": []},
                {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
                {"type": "function_call", "call_id": "c2", "name": "g", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c1", "output": "one"},
            ],
        }
    )
    chat = responses_shape.chat_request(body)
    sent = [m.model_dump(exclude_none=True) for m in chat.messages]
    assert [m["role"] for m in sent] == ["system", "system", "user", "assistant", "tool"]
    assert [c["id"] for c in sent[3]["tool_calls"]] == ["c1", "c2"]
    assert chat.response_format["json_schema"]["name"] == "t"  # type: ignore[attr-defined]
    for refused in ({"previous_response_id": "resp_1"}, {"store": True}, {"background": True}):
        with pytest.raises(InvalidInput):
            responses_shape.chat_request(body.model_copy(update=refused))
    with pytest.raises(InvalidInput, match="only function tools"):
        responses_shape.chat_request(body.model_copy(update={"tools": [{"type": "web_search"}]}))
