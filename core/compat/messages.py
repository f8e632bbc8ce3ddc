"""Chat messages between OpenAI's shape and Ollama's: text parts, images, tool calls and tool
results. Pure; what cannot be carried over is InvalidInput naming the field.

OpenAI -> Ollama: content parts joined as text, `image_url` data URLs -> `images` (base64),
assistant `tool_calls` -> Ollama calls (arguments as objects), a `tool` message -> `tool_name`
(looked up from the call it answers). Ollama -> OpenAI: the reverse, with call ids made up
where Ollama has none, so the `tool` message that answers a call carries its `tool_call_id`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from core.compat import tool_calls
from core.errors import InvalidInput

# First bytes of base64 images -> their media type (Ollama's images carry none).
_MAGIC = {"iVBOR": "image/png", "/9j/": "image/jpeg", "R0lGOD": "image/gif", "UklGR": "image/webp"}


def _data_url_image(url: str, where: str) -> str:
    """The base64 of a data: URL; InvalidInput for links (Ollama cannot fetch them)."""
    if not url.startswith("data:"):
        raise InvalidInput(
            f"{where}: Ollama models take images as data URLs (data:image/png;base64,...), "
            "not links"
        )
    header, _, data = url.partition(",")
    if ";base64" not in header or not data:
        raise InvalidInput(f"{where}: a data URL with base64 content is needed")
    try:
        base64.b64decode(data[:64] + "=" * (-len(data[:64]) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{where}: the data URL's content is not base64") from None
    return data


def _content(content: Any, where: str) -> tuple[str, list[str]]:
    """(text, images) of OpenAI content: a string or a list of text/image_url parts."""
    if content is None or isinstance(content, str):
        return content or "", []
    texts: list[str] = []
    images: list[str] = []
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            texts.append(str(part.get("text") or ""))
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            images.append(_data_url_image(str(url or ""), f"{where}[{j}].image_url"))
        else:
            raise InvalidInput(f"{where}[{j}].type: {kind!r} parts cannot go to an Ollama model")
    return "".join(texts), images


def openai_to_ollama(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for i, m in enumerate(messages):
        role = "system" if m.get("role") == "developer" else m.get("role")
        text, images = _content(m.get("content"), f"messages[{i}].content")
        message: dict[str, Any] = {"role": role, "content": text}
        if images:
            message["images"] = images
        calls = m.get("tool_calls") or []
        if calls:
            parsed = [
                tool_calls.from_openai(c, f"messages[{i}].tool_calls[{j}]")
                for j, c in enumerate(calls)
            ]
            names.update({c.id: c.name for c in parsed if c.id})
            message["tool_calls"] = [c.ollama() for c in parsed]
        if role == "tool":
            name = m.get("name") or names.get(str(m.get("tool_call_id") or ""))
            if name:
                message["tool_name"] = name
        out.append(message)
    return out


def _image_url(data: str) -> dict[str, Any]:
    media = next((t for magic, t in _MAGIC.items() if data.startswith(magic)), "image/png")
    return {"type": "image_url", "image_url": {"url": f"data:{media};base64,{data}"}}


def ollama_to_openai(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    open_calls: list[tuple[str, str]] = []  # (id, name) of calls not answered yet
    for i, m in enumerate(messages):
        role = m.get("role")
        message: dict[str, Any] = {"role": role}
        images = m.get("images") or []
        if images:
            parts: list[dict[str, Any]] = [{"type": "text", "text": m.get("content") or ""}]
            message["content"] = parts + [_image_url(str(d)) for d in images]
        else:
            message["content"] = m.get("content") or ""
        calls = [
            c
            for j, raw in enumerate(m.get("tool_calls") or [])
            if isinstance(raw, dict) and (c := tool_calls.from_ollama(raw, f"call_{i}_{j}"))
        ]
        if calls:
            message["tool_calls"] = [c.openai() for c in calls]
            message["content"] = message["content"] or None
            open_calls.extend((c.id, c.name) for c in calls)
        if role == "tool":
            name = m.get("tool_name")
            match = next((c for c in open_calls if c[1] == name), None) or (
                open_calls[0] if open_calls else None
            )
            if match is None:
                raise InvalidInput(f"messages[{i}]: a tool result with no tool call before it")
            open_calls.remove(match)
            message["tool_call_id"] = match[0]
        out.append(message)
    return out


def text_of(content: Any) -> str:
    """The text of OpenAI content (a string or parts), for routing's view of a message."""
    if isinstance(content, list):
        return "".join(
            str(p.get("text") or "")
            for p in content
            if isinstance(p, dict) and p.get("type") == "text"
        )
    return content if isinstance(content, str) else ""
