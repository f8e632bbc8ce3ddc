"""Anthropic's Messages API over the chat-completions path: its request as an OpenAI chat
request, the chat.completion back as an Anthropic message. Pure.

Blocks map one to one: text -> text, image -> an image_url part (a data URL), tool_use ->
an assistant tool call, tool_result -> a `tool` message; tools and tool_choice likewise.
Errors: core.compat.anthropic_errors.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core import errors
from core.compat.schemas import MAX_MESSAGES, ChatCompletionRequest, ModelName

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
MAX_TOOLS = 128
_STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class AnthropicMessage(_Loose):
    role: Literal["user", "assistant"]
    content: str | list[dict[str, Any]]


class AnthropicTool(_Loose):
    name: Name
    description: str | None = None
    input_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    type: str | None = None


class CountTokensRequest(_Loose):
    model: ModelName
    messages: list[AnthropicMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    system: str | list[dict[str, Any]] | None = None
    tools: list[AnthropicTool] | None = Field(None, max_length=MAX_TOOLS)
    tool_choice: dict[str, Any] | None = None


class MessagesRequest(CountTokensRequest):
    max_tokens: int = Field(ge=1, le=1_000_000)
    stop_sequences: list[Annotated[str, StringConstraints(max_length=1000)]] | None = Field(
        None, max_length=16
    )
    temperature: float | None = Field(None, ge=0, le=1)
    top_p: float | None = Field(None, ge=0, le=1)
    top_k: int | None = Field(None, ge=1, le=100_000)
    stream: bool = False
    thinking: dict[str, Any] | None = None
    # llm-mcp extensions.
    priority: int = Field(0, ge=-1000, le=1000)
    prefer_local: bool = False


def _text_of(blocks: str | list[dict[str, Any]] | None, where: str) -> str:
    if blocks is None or isinstance(blocks, str):
        return blocks or ""
    texts = []
    for block in blocks:
        if block.get("type") != "text":
            raise errors.InvalidInput(f"{where}: only text blocks here, not {block.get('type')}")
        texts.append(str(block.get("text") or ""))
    return "\n\n".join(texts)


def _image_part(block: dict[str, Any]) -> dict[str, Any]:
    source = block.get("source") or {}
    if source.get("type") == "base64":
        url = f"data:{source.get('media_type')};base64,{source.get('data')}"
    elif source.get("type") == "url":
        url = str(source.get("url"))
    else:
        raise errors.InvalidInput("image.source: base64 or url")
    return {"type": "image_url", "image_url": {"url": url}}


def _tool_result(block: dict[str, Any], where: str) -> tuple[dict[str, Any], list[dict]]:
    """(the `tool` message, the result's images: a tool message holds text only, so they
    follow in the user's message)."""
    content = block.get("content")
    images: list[dict[str, Any]] = []
    if isinstance(content, list):
        images = [_image_part(p) for p in content if p.get("type") == "image"]
        content = _text_of([p for p in content if p.get("type") != "image"], f"{where}.content")
    message = {
        "role": "tool",
        "tool_call_id": str(block.get("tool_use_id")),
        "content": str(content or ""),
    }
    return message, images


def _user(content: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    """Tool results first (each a `tool` message answering the previous turn's call), then
    the user's own text and images as one message."""
    results: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for i, block in enumerate(content):
        kind = block.get("type")
        if kind == "tool_result":
            message, images = _tool_result(block, f"{where}.{i}")
            results.append(message)
            parts.extend(images)
        elif kind == "text":
            parts.append({"type": "text", "text": str(block.get("text") or "")})
        elif kind == "image":
            parts.append(_image_part(block))
        else:
            raise errors.InvalidInput(f"{where}.{i}: content block type {kind} is not supported")
    if parts and all(p["type"] == "text" for p in parts):
        results.append({"role": "user", "content": "".join(p["text"] for p in parts)})
    elif parts:
        results.append({"role": "user", "content": parts})
    return results


def _assistant(content: list[dict[str, Any]], where: str) -> dict[str, Any]:
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for i, block in enumerate(content):
        kind = block.get("type")
        if kind == "text":
            texts.append(str(block.get("text") or ""))
        elif kind == "tool_use":
            arguments = json.dumps(block.get("input") or {}, separators=(",", ":"))
            function = {"name": str(block.get("name")), "arguments": arguments}
            calls.append({"id": str(block.get("id")), "type": "function", "function": function})
        elif kind in ("thinking", "redacted_thinking"):
            continue  # our own earlier reasoning, handed back: the model needs only the answer
        else:
            raise errors.InvalidInput(f"{where}.{i}: content block type {kind} is not supported")
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts)}
    if calls:
        message["tool_calls"] = calls
    return message


def chat_messages(body: CountTokensRequest) -> list[dict[str, Any]]:
    """The conversation as OpenAI chat messages."""
    messages: list[dict[str, Any]] = []
    system = _text_of(body.system, "system")
    if system:
        messages.append({"role": "system", "content": system})
    for n, message in enumerate(body.messages):
        where = f"messages.{n}.content"
        content = message.content
        if isinstance(content, str):
            messages.append({"role": message.role, "content": content})
        elif message.role == "user":
            messages.extend(_user(content, where))
        else:
            messages.append(_assistant(content, where))
    return messages


def _tools(tools: list[AnthropicTool]) -> list[dict[str, Any]]:
    out = []
    for tool in tools:
        if tool.type not in (None, "custom"):
            raise errors.InvalidInput(f"tools: {tool.name} is a server tool ({tool.type})")
        function: dict[str, Any] = {"name": tool.name, "parameters": tool.input_schema}
        if tool.description:
            function["description"] = tool.description
        out.append({"type": "function", "function": function})
    return out


def _tool_choice(choice: dict[str, Any]) -> Any:
    kind = choice.get("type")
    if kind == "tool":
        return {"type": "function", "function": {"name": str(choice.get("name"))}}
    mapped = {"auto": "auto", "any": "required", "none": "none"}.get(str(kind))
    if mapped is None:
        raise errors.InvalidInput("tool_choice.type: auto, any, tool or none")
    return mapped


def chat_request(body: MessagesRequest) -> tuple[ChatCompletionRequest, dict[str, Any]]:
    """(the OpenAI chat request, Ollama options OpenAI has no field for)."""
    chat: dict[str, Any] = {
        "model": body.model,
        "messages": chat_messages(body),
        "max_tokens": body.max_tokens,
        "stream": body.stream,
        "priority": body.priority,
        "prefer_local": body.prefer_local,
    }
    for key in ("temperature", "top_p"):
        if getattr(body, key) is not None:
            chat[key] = getattr(body, key)
    if body.stop_sequences:
        chat["stop"] = body.stop_sequences
    if body.tools:
        chat["tools"] = _tools(body.tools)
    if body.tool_choice:
        chat["tool_choice"] = _tool_choice(body.tool_choice)
    options = {"top_k": body.top_k} if body.top_k is not None else {}
    return ChatCompletionRequest.model_validate(chat), options


def wants_thinking(body: MessagesRequest) -> bool:
    """Whether the client asked for thinking blocks (a thinking model's reasoning)."""
    return bool(body.thinking) and (body.thinking or {}).get("type") in ("enabled", "adaptive")


def message_id(completion_id: str) -> str:
    return "msg_" + completion_id.removeprefix("chatcmpl-")


def tool_input(arguments: Any) -> dict[str, Any]:
    """A tool call's JSON arguments as Anthropic's `input` object."""
    if isinstance(arguments, dict):
        return arguments
    try:
        value = json.loads(arguments or "{}")
    except ValueError:
        return {"arguments": arguments}
    return value if isinstance(value, dict) else {"arguments": value}


def stop_reason(finish_reason: str | None) -> str:
    return _STOP_REASONS.get(finish_reason or "stop", "end_turn")


def usage(openai_usage: dict[str, Any] | None) -> dict[str, int]:
    given = openai_usage or {}
    return {
        "input_tokens": int(given.get("prompt_tokens") or 0),
        "output_tokens": int(given.get("completion_tokens") or 0),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def message(completion: dict[str, Any], model: str, *, thinking: bool = False) -> dict[str, Any]:
    """An Anthropic message from an OpenAI chat.completion (`thinking`: the reasoning as a
    thinking block first)."""
    choice = completion["choices"][0]
    answer = choice["message"]
    content: list[dict[str, Any]] = []
    if thinking and answer.get("reasoning_content"):
        reasoning = answer["reasoning_content"]
        content.append({"type": "thinking", "thinking": reasoning, "signature": ""})
    if answer.get("content"):
        content.append({"type": "text", "text": answer["content"]})
    for call in answer.get("tool_calls") or []:
        function = call.get("function") or {}
        content.append(
            {
                "type": "tool_use",
                "id": call.get("id"),
                "name": function.get("name"),
                "input": tool_input(function.get("arguments")),
            }
        )
    return {
        "id": message_id(completion["id"]),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content or [{"type": "text", "text": ""}],
        "stop_reason": stop_reason(choice.get("finish_reason")),
        "stop_sequence": None,
        "usage": usage(completion.get("usage")),
    }


def count_tokens(body: CountTokensRequest) -> int:
    """An estimate (no tokenizer for every model): ~4 characters a token, plus each
    message's framing."""
    messages = chat_messages(body)
    chars = len(json.dumps([m.get("content") for m in messages], ensure_ascii=False))
    if body.tools:
        chars += len(json.dumps(_tools(body.tools), ensure_ascii=False))
    return math.ceil(chars / 4) + 3 * len(messages)
