"""OpenAI's Responses API over the chat-completions path, stateless: the request (string or
items, `instructions`, function tools, function_call / function_call_output items) as a chat
request, and the chat.completion back as a `response` object. Pure.

Nothing is stored, so what needs a stored response (previous_response_id, store=true,
conversation, background, item_reference) is refused with a 400 that says so.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from core.compat.schemas import MAX_MESSAGES, ChatCompletionRequest, ModelName, Text, _Loose
from core.errors import InvalidInput

MAX_TOOLS = 128
_STATEFUL = "this server keeps no responses (stateless): send the whole conversation as input"
_TEXT_PARTS = ("input_text", "output_text", "text", "refusal", "summary_text")


class ResponsesRequest(_Loose):
    model: ModelName
    input: Text | list[dict[str, Any]] = Field(...)
    instructions: Text | None = None
    tools: list[dict[str, Any]] | None = Field(None, max_length=MAX_TOOLS)
    tool_choice: str | dict[str, Any] | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    max_output_tokens: int | None = Field(None, ge=1, le=1_000_000)
    text: dict[str, Any] | None = None
    stream: bool = False
    store: bool | None = None
    previous_response_id: str | None = None
    conversation: Any = None
    background: bool | None = None
    metadata: dict[str, Any] | None = None
    # llm-mcp extensions (extra_body in the openai client).
    priority: int = Field(0, ge=-1000, le=1000)
    prefer_local: bool = False

    def refuse_state(self) -> None:
        """InvalidInput for every field that needs a stored response."""
        if self.previous_response_id is not None:
            raise InvalidInput(f"previous_response_id: {_STATEFUL}")
        if self.conversation is not None:
            raise InvalidInput(f"conversation: {_STATEFUL}")
        if self.store:
            raise InvalidInput(f"store: {_STATEFUL}; send store=false")
        if self.background:
            raise InvalidInput("background: responses run in the foreground here")


def _text(content: Any, where: str) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    texts = []
    for i, part in enumerate(content if isinstance(content, list) else [content]):
        if not isinstance(part, dict) or part.get("type") not in _TEXT_PARTS:
            raise InvalidInput(f"{where}.{i}: only text parts here")
        texts.append(str(part.get("text") or part.get("refusal") or ""))
    return "".join(texts)


def _content(content: Any, where: str) -> str | list[dict[str, Any]]:
    """A message's content as OpenAI chat content (text, or parts when it has images)."""
    if not isinstance(content, list):
        return _text(content, where)
    parts: list[dict[str, Any]] = []
    for i, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in _TEXT_PARTS:
            parts.append({"type": "text", "text": _text([part], where)})
        elif kind == "input_image" and isinstance(part.get("image_url"), str):
            parts.append({"type": "image_url", "image_url": {"url": part["image_url"]}})
        else:
            raise InvalidInput(f"{where}.{i}: content part {kind} is not supported")
    if all(p["type"] == "text" for p in parts):
        return "".join(p["text"] for p in parts)
    return parts


def chat_messages(body: ResponsesRequest) -> list[dict[str, Any]]:
    """Instructions, then the input items, as OpenAI chat messages."""
    messages: list[dict[str, Any]] = []
    if body.instructions:
        messages.append({"role": "system", "content": body.instructions})
    if isinstance(body.input, str):
        return [*messages, {"role": "user", "content": body.input}]
    for n, item in enumerate(body.input):
        where = f"input.{n}"
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            if role not in ("user", "assistant", "system", "developer"):
                raise InvalidInput(f"{where}.role: user, assistant, system or developer")
            role = "system" if role == "developer" else role
            messages.append({"role": role, "content": _content(item.get("content"), where)})
        elif kind == "function_call":
            call = {
                "id": str(item.get("call_id")),
                "type": "function",
                "function": {"name": str(item.get("name")), "arguments": item.get("arguments")},
            }
            last = messages[-1] if messages else None
            if last is None or last["role"] != "assistant":
                last = {"role": "assistant", "content": ""}
                messages.append(last)
            last.setdefault("tool_calls", []).append(call)
        elif kind == "function_call_output":
            output = _text(item.get("output"), f"{where}.output")
            messages.append(
                {"role": "tool", "tool_call_id": str(item.get("call_id")), "content": output}
            )
        elif kind == "reasoning":
            continue  # our own earlier reasoning, handed back: the model needs only the answer
        elif kind == "item_reference":
            raise InvalidInput(f"{where}: item_reference: {_STATEFUL}")
        else:
            raise InvalidInput(f"{where}: input item type {kind} is not supported")
    if len(messages) > MAX_MESSAGES:
        raise InvalidInput(f"input: at most {MAX_MESSAGES} messages")
    return messages


def _tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for i, tool in enumerate(tools):
        if tool.get("type") != "function":
            raise InvalidInput(f"tools.{i}: only function tools, not {tool.get('type')}")
        function = {
            k: tool[k] for k in ("name", "description", "parameters", "strict") if k in tool
        }
        out.append({"type": "function", "function": function})
    return out


def _tool_choice(choice: str | dict[str, Any]) -> Any:
    if isinstance(choice, str):
        return choice
    if choice.get("type") == "function" and choice.get("name"):
        return {"type": "function", "function": {"name": choice["name"]}}
    raise InvalidInput("tool_choice: auto, none, required or a function by name")


def _response_format(text: dict[str, Any]) -> dict[str, Any] | None:
    fmt = text.get("format") or {}
    kind = fmt.get("type", "text")
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    if kind == "json_schema":
        schema = {k: fmt[k] for k in ("name", "schema", "strict", "description") if k in fmt}
        return {"type": "json_schema", "json_schema": schema}
    raise InvalidInput(f"text.format.type: text, json_object or json_schema, not {kind}")


def chat_request(body: ResponsesRequest) -> ChatCompletionRequest:
    body.refuse_state()
    chat: dict[str, Any] = {
        "model": body.model,
        "messages": chat_messages(body),
        "stream": body.stream,
        "priority": body.priority,
        "prefer_local": body.prefer_local,
    }
    for key in ("temperature", "top_p"):
        if getattr(body, key) is not None:
            chat[key] = getattr(body, key)
    if body.max_output_tokens is not None:
        chat["max_tokens"] = body.max_output_tokens
    if body.tools:
        chat["tools"] = _tools(body.tools)
    if body.tool_choice is not None:
        chat["tool_choice"] = _tool_choice(body.tool_choice)
    if body.text and (response_format := _response_format(body.text)):
        chat["response_format"] = response_format
    return ChatCompletionRequest.model_validate(chat)


def ids(completion_id: str) -> str:
    """The hex of a job's completion id, which every id of its response shares."""
    return completion_id.removeprefix("chatcmpl-")


def message_item(hex_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    return {
        "type": "message",
        "id": f"msg_{hex_id}",
        "status": status,
        "role": "assistant",
        "content": [part] if status == "completed" else [],
    }


def call_item(hex_id: str, n: int, call: dict[str, Any], status: str = "completed") -> dict:
    function = call.get("function") or {}
    return {
        "type": "function_call",
        "id": f"fc_{hex_id}_{n}",
        "call_id": call.get("id"),
        "name": function.get("name"),
        "arguments": (function.get("arguments") or "") if status == "completed" else "",
        "status": status,
    }


def usage(openai_usage: dict[str, Any] | None) -> dict[str, Any]:
    given = openai_usage or {}
    tokens_in = int(given.get("prompt_tokens") or 0)
    tokens_out = int(given.get("completion_tokens") or 0)
    return {
        "input_tokens": tokens_in,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": tokens_out,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": tokens_in + tokens_out,
    }


def response(
    body: ResponsesRequest,
    *,
    hex_id: str,
    model: str,
    created: int,
    output: list[dict[str, Any]],
    status: str = "completed",
    finish_reason: str | None = None,
    openai_usage: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The `response` object around its output items."""
    incomplete = None
    if status == "completed" and finish_reason == "length":
        status, incomplete = "incomplete", {"reason": "max_output_tokens"}
    return {
        "id": f"resp_{hex_id}",
        "object": "response",
        "created_at": created,
        "status": status,
        "model": model,
        "output": output,
        "usage": usage(openai_usage) if status != "in_progress" else None,
        "error": error,
        "incomplete_details": incomplete,
        "instructions": body.instructions,
        "metadata": body.metadata or {},
        "parallel_tool_calls": True,
        "temperature": body.temperature,
        "top_p": body.top_p,
        "max_output_tokens": body.max_output_tokens,
        "tool_choice": body.tool_choice or "auto",
        "tools": body.tools or [],
        "text": body.text or {"format": {"type": "text"}},
        "previous_response_id": None,
        "store": False,
        "truncation": "disabled",
    }


def from_completion(body: ResponsesRequest, completion: dict[str, Any], model: str) -> dict:
    """A finished `response` from an OpenAI chat.completion."""
    hex_id = ids(completion["id"])
    choice = completion["choices"][0]
    answer = choice["message"]
    output = []
    if answer.get("content"):
        output.append(message_item(hex_id, answer["content"]))
    for n, call in enumerate(answer.get("tool_calls") or []):
        output.append(call_item(hex_id, n, call))
    return response(
        body,
        hex_id=hex_id,
        model=model,
        created=completion["created"],
        output=output,
        finish_reason=choice.get("finish_reason"),
        openai_usage=completion.get("usage"),
    )
