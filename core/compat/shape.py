"""From a compatible request to a routed job: which provider a model name means, the
LlmRequest routing decides on, and the payload the chosen provider's worker gets. Pure.

The payload is shaped once the provider is chosen, and raises InvalidInput (naming the field)
for what that provider cannot take, before any job is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.compat import messages as convert
from core.compat import params
from core.routing.decide import Decision
from core.routing.fleet import Fleet
from core.routing.model_names import split_provider
from core.routing.schemas import Constraints, LlmRequest, Message
from proto.contract import CLOUD_PASSTHROUGH, STREAM

# Ollama request fields an Ollama device gets as they came.
OLLAMA_PASSTHROUGH = (
    "think",
    "format",
    "keep_alive",
    "raw",
    "template",
    "suffix",
    "tools",
    "context",
    "images",
    "options",
)

Shape = Callable[[Decision], dict[str, Any]]


def resolve_model(model: str | None) -> tuple[str, str | None]:
    """(provider, model) for routing: `auto` (or nothing) -> ("auto", None); a provider prefix
    (`ollama/x`, `openai/x`, `openrouter/x`) -> that provider; any other name -> ("auto",
    name), and routing sends it to whoever serves it (core.routing.model_names), or refuses it
    with UnknownModel before any job is written."""
    if not model or model == "auto":
        return "auto", None
    prefix, name = split_provider(model)
    return (prefix, name) if prefix else ("auto", model)


def chat_request(
    fleet: Fleet,
    *,
    model: str,
    messages: list[dict[str, Any]],
    temperature: float | None = None,
    max_tokens: int | None = None,
    priority: int = 0,
    prefer_local: bool = False,
    fallback: bool = False,
    source: str,
    local: bool = False,
) -> LlmRequest:
    """`local`: the Ollama API, where `auto` prefers the fleet's own devices."""
    del fleet  # routing decides on the fleet; the request only names what the client asked
    provider, concrete = resolve_model(model)
    return LlmRequest(
        task="chat",
        provider=provider,  # type: ignore[arg-type]
        model=concrete,
        messages=[
            Message(role=str(m["role"]), content=convert.text_of(m.get("content")))
            for m in messages
        ],
        temperature=temperature,
        max_tokens=max_tokens,
        priority=priority,
        source=source,
        constraints=Constraints(prefer_local=prefer_local or local, fallback=fallback),
    )


def embed_request(fleet: Fleet, *, model: str, text: str, priority: int, source: str) -> LlmRequest:
    del fleet
    provider, concrete = resolve_model(model)
    return LlmRequest(
        task="embed",
        provider=provider,  # type: ignore[arg-type]
        model=concrete,
        prompt=text,
        priority=priority,
        source=source,
    )


def openai_chat_shape(body: dict[str, Any], *, stream: bool) -> Shape:
    """The payload for an OpenAI chat-completions request (`body`, as the client sent it):
    Ollama's /api/chat on a device, the request itself for a cloud."""
    max_tokens = body.get("max_tokens") or body.get("max_completion_tokens")

    def shape(decision: Decision) -> dict[str, Any]:
        if decision.provider == "ollama":
            payload: dict[str, Any] = {
                "model": decision.model,
                "messages": convert.openai_to_ollama(body["messages"]),
            }
            payload.update(params.openai_to_ollama(body, max_tokens))
        else:
            params.check_n(body.get("n"))
            payload = dict(decision.payload)
            payload["messages"] = body["messages"]
            payload.update({k: body[k] for k in CLOUD_PASSTHROUGH if body.get(k) is not None})
        payload[STREAM] = stream
        return payload

    return shape


def ollama_chat_shape(body: dict[str, Any], *, stream: bool) -> Shape:
    """The payload for an Ollama /api/chat request: as it came on a device, as a chat
    completion (tool calls, images and options carried over) for a cloud."""

    def shape(decision: Decision) -> dict[str, Any]:
        if decision.provider == "ollama":
            payload = {"model": decision.model, "messages": body["messages"]}
            payload.update({k: body[k] for k in OLLAMA_PASSTHROUGH if body.get(k) is not None})
        else:
            payload = dict(decision.payload)
            payload["messages"] = convert.ollama_to_openai(body["messages"])
            payload.update(params.ollama_to_cloud(body))
        payload[STREAM] = stream
        return payload

    return shape


def generate_shape(body: dict[str, Any], *, stream: bool) -> Shape:
    """Ollama's /api/generate body on a device; messages (system + prompt) for a cloud."""

    def shape(decision: Decision) -> dict[str, Any]:
        if decision.provider == "ollama":
            payload: dict[str, Any] = {"model": decision.model, "prompt": body.get("prompt", "")}
            if body.get("system"):
                payload["system"] = body["system"]
            payload.update({k: body[k] for k in OLLAMA_PASSTHROUGH if body.get(k) is not None})
        else:
            payload = dict(decision.payload)
            payload.update(params.ollama_to_cloud(body))
        payload[STREAM] = stream
        return payload

    return shape


def embed_shape(texts: str | list[str], extra: dict[str, Any] | None = None) -> Shape:
    """Ollama's /api/embed body; `extra`: dimensions, truncate, keep_alive, options as given."""
    fields = {k: v for k, v in (extra or {}).items() if v is not None}

    def shape(decision: Decision) -> dict[str, Any]:
        return {"model": decision.model, "input": texts, **fields}

    return shape
