"""Messages, tool calls and parameters between OpenAI's shape and Ollama's, as plain functions:
what a client sends arrives in the provider's own terms, or is refused naming the field."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from core.compat import messages, params
from core.compat.tool_calls import ToolCall, of_job
from core.errors import InvalidInput


def _job(result: dict) -> Any:
    """What of_job reads of a finished job: its id and result."""
    return SimpleNamespace(id="0b7f2c1e-0000-0000-0000-000000000001", result=result)


def test_an_ollama_conversation_with_tools_and_images_becomes_openais() -> None:
    history = [
        {"role": "user", "content": "look", "images": ["iVBORw0KGgo="]},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": "zoom", "arguments": {"x": 2}}}],
        },
        {"role": "tool", "content": "zoomed", "tool_name": "zoom"},
    ]
    sent = messages.ollama_to_openai(history)
    assert sent[0]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="},
    }
    call = sent[1]["tool_calls"][0]
    assert call["function"] == {"name": "zoom", "arguments": '{"x":2}'}
    assert sent[1]["content"] is None
    assert sent[2] == {"role": "tool", "content": "zoomed", "tool_call_id": call["id"]}
    # And back: the tool message names its function for Ollama.
    again = messages.openai_to_ollama(sent)
    assert again[2]["tool_name"] == "zoom" and again[0]["images"] == ["iVBORw0KGgo="]


def test_what_ollama_cannot_take_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match=r"messages\[0\]\.content\[0\]\.type"):
        messages.openai_to_ollama([{"role": "user", "content": [{"type": "input_audio"}]}])
    bad_call = {"id": "c", "function": {"name": "f", "arguments": "{not json"}}
    with pytest.raises(InvalidInput, match=r"messages\[0\]\.tool_calls\[0\]\.function"):
        messages.openai_to_ollama([{"role": "assistant", "tool_calls": [bad_call]}])
    with pytest.raises(InvalidInput, match="logit_bias"):
        params.openai_to_ollama({"logit_bias": {"1": 2}}, None)
    assert params.openai_to_ollama({"reasoning_effort": "high"}, None) == {"think": "high"}
    assert params.openai_to_ollama({"tools": [{}], "tool_choice": "none"}, None) == {}


def test_ollama_fields_for_a_cloud_are_mapped_or_refused() -> None:
    fields = params.ollama_to_cloud(
        {"options": {"temperature": 0.1, "num_predict": 9, "num_ctx": 8192}, "format": "json"}
    )
    assert fields == {
        "temperature": 0.1,
        "max_tokens": 9,
        "response_format": {"type": "json_object"},
    }
    for body, named in [
        ({"raw": True}, "raw"),
        ({"suffix": "}"}, "suffix"),
        ({"options": {"mirostat": 1}}, "options.mirostat"),
        ({"think": True}, "think"),
    ]:
        with pytest.raises(InvalidInput, match=named):
            params.ollama_to_cloud(body)


def test_tool_calls_of_a_finished_job_whichever_provider_ran_it() -> None:
    ollama = _job(
        {"data": {"message": {"tool_calls": [{"function": {"name": "f", "arguments": {}}}]}}}
    )
    (call,) = of_job(ollama)
    assert call.name == "f" and call.id.startswith("call_0b7f2c1e")
    cloud = _job(
        {
            "data": {
                "choices": [
                    {
                        "message": {
                            "tool_calls": [
                                {"id": "call_1", "function": {"name": "g", "arguments": '{"a":1}'}}
                            ]
                        }
                    }
                ]
            }
        }
    )
    assert of_job(cloud) == [ToolCall(id="call_1", name="g", arguments={"a": 1})]
    assert of_job(_job({"response": "plain"})) == []
