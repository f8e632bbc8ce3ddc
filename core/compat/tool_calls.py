"""Tool calls between OpenAI's shape and Ollama's, both directions. Pure.

OpenAI: {"id", "type": "function", "function": {"name", "arguments": "<JSON text>"}}.
Ollama: {"function": {"name", "arguments": {...}}} (an `id` on recent versions).
A finished job's calls come from its provider's own answer (result.data), whichever it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.errors import InvalidInput
from core.queue.models import Job
from proto.contract import DATA


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]

    def openai(self) -> dict[str, Any]:
        arguments = json.dumps(self.arguments, separators=(",", ":"))
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": arguments},
        }

    def ollama(self) -> dict[str, Any]:
        return {"id": self.id, "function": {"name": self.name, "arguments": self.arguments}}


def parse_arguments(text: Any, where: str) -> dict[str, Any]:
    """OpenAI's arguments (JSON text) as an object; InvalidInput naming `where` otherwise."""
    if isinstance(text, dict):
        return text
    if text in (None, ""):
        return {}
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        raise InvalidInput(f"{where}: arguments are not JSON") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}: arguments must be a JSON object")
    return value


def from_openai(call: dict[str, Any], where: str) -> ToolCall:
    function = call.get("function") if isinstance(call.get("function"), dict) else {}
    name = function.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidInput(f"{where}: function.name is missing")
    arguments = parse_arguments(function.get("arguments"), f"{where}.function")
    return ToolCall(id=str(call.get("id") or ""), name=name, arguments=arguments)


def from_ollama(call: dict[str, Any], fallback_id: str) -> ToolCall | None:
    function = call.get("function") if isinstance(call.get("function"), dict) else {}
    name = function.get("name")
    if not isinstance(name, str) or not name:
        return None
    arguments = function.get("arguments")
    if not isinstance(arguments, dict):
        try:
            arguments = parse_arguments(arguments, "tool call")
        except InvalidInput:
            arguments = {}
    return ToolCall(id=str(call.get("id") or fallback_id), name=name, arguments=arguments)


def call_id(job_id: str, index: int) -> str:
    return f"call_{job_id.replace('-', '')[:16]}_{index}"


def of_job(job: Job) -> list[ToolCall]:
    """The tool calls in a finished job's answer (Ollama's message or a cloud's first choice)."""
    result = job.result if isinstance(job.result, dict) else {}
    data = result.get(DATA) if isinstance(result.get(DATA), dict) else {}
    choices = data.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        message = choices[0].get("message") or {}
        calls = message.get("tool_calls") if isinstance(message, dict) else None
        found = []
        for i, call in enumerate(calls or []):
            if isinstance(call, dict):
                try:
                    tool_call = from_openai(call, "tool call")
                except InvalidInput:
                    continue
                found.append(tool_call if tool_call.id else _with_id(tool_call, job, i))
        return found
    message = data.get("message") if isinstance(data.get("message"), dict) else {}
    calls = message.get("tool_calls") or []
    parsed = (
        from_ollama(c, call_id(str(job.id), i)) for i, c in enumerate(calls) if isinstance(c, dict)
    )
    return [c for c in parsed if c is not None]


def _with_id(call: ToolCall, job: Job, index: int) -> ToolCall:
    return ToolCall(id=call_id(str(job.id), index), name=call.name, arguments=call.arguments)
