"""From a compatible request to a routed job: which provider a model name means, the
LlmRequest routing decides on, and the payload the chosen provider's worker gets. Pure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.routing.decide import Decision
from core.routing.fleet import Fleet
from core.routing.schemas import PROVIDERS, Constraints, LlmRequest, Message

# OpenAI request fields a cloud provider gets as they came.
CLOUD_PASSTHROUGH = (
    "top_p",
    "stop",
    "seed",
    "response_format",
    "tools",
    "tool_choice",
    "presence_penalty",
    "frequency_penalty",
    "max_completion_tokens",
)
# Ollama request fields an Ollama device gets as they came.
OLLAMA_PASSTHROUGH = ("think", "format", "keep_alive", "raw", "template", "suffix", "tools")

Shape = Callable[[Decision], dict[str, Any]]


def resolve_model(
    model: str | None, fleet: Fleet, *, task: str = "chat", local: bool = False
) -> tuple[str, str | None]:
    """(provider, model) for a model name: `auto`, `ollama/x`, `openai/x`, `openrouter/x`, or
    a bare name: a fleet model (or any bare name when `local`, the Ollama API) -> ollama;
    `vendor/model` -> openrouter; else openai when an OpenAI worker runs, else ollama."""
    if not model or model == "auto":
        return "auto", None
    prefix, sep, rest = model.partition("/")
    if sep and prefix in PROVIDERS and rest:
        return prefix, rest
    if local or task == "embed" or model in fleet.catalog():
        return "ollama", model
    if "/" in model:
        return "openrouter", model
    if "openai.chat" in fleet.live_kinds:
        return "openai", model
    return "ollama", model


def chat_request(
    fleet: Fleet,
    *,
    model: str,
    messages: list[dict[str, str]],
    temperature: float | None = None,
    max_tokens: int | None = None,
    priority: int = 0,
    prefer_local: bool = False,
    fallback: bool = False,
    source: str,
    local: bool = False,
) -> LlmRequest:
    provider, concrete = resolve_model(model, fleet, local=local)
    return LlmRequest(
        task="chat",
        provider=provider,  # type: ignore[arg-type]
        model=concrete,
        messages=[Message(role=m["role"], content=m["content"]) for m in messages],
        temperature=temperature,
        max_tokens=max_tokens,
        priority=priority,
        source=source,
        constraints=Constraints(prefer_local=prefer_local, fallback=fallback),
    )


def embed_request(fleet: Fleet, *, model: str, text: str, priority: int, source: str) -> LlmRequest:
    provider, concrete = resolve_model(model, fleet, task="embed")
    return LlmRequest(
        task="embed",
        provider=provider,  # type: ignore[arg-type]
        model=concrete,
        prompt=text,
        priority=priority,
        source=source,
    )


def _options(temperature: float | None, max_tokens: int | None, given: dict | None) -> dict:
    options = dict(given or {})
    if temperature is not None:
        options.setdefault("temperature", temperature)
    if max_tokens is not None:
        options.setdefault("num_predict", max_tokens)
    return options


def chat_shape(
    *,
    messages: list[dict[str, str]],
    stream: bool,
    extra: dict[str, Any],
    temperature: float | None = None,
    max_tokens: int | None = None,
    options: dict[str, Any] | None = None,
    cloud_messages: list[dict[str, Any]] | None = None,
) -> Shape:
    """The payload for a chat: Ollama's /api/chat body on a device, else the cloud's
    (`cloud_messages`: the client's messages as sent, tool calls and all)."""

    def shape(decision: Decision) -> dict[str, Any]:
        if decision.provider == "ollama":
            payload: dict[str, Any] = {"model": decision.model, "messages": messages}
            opts = _options(temperature, max_tokens, options)
            if opts:
                payload["options"] = opts
            payload.update({k: extra[k] for k in OLLAMA_PASSTHROUGH if extra.get(k) is not None})
        else:
            payload = dict(decision.payload)
            if cloud_messages is not None:
                payload["messages"] = cloud_messages
            payload.update({k: extra[k] for k in CLOUD_PASSTHROUGH if extra.get(k) is not None})
        payload["stream"] = stream
        return payload

    return shape


def generate_shape(
    *, prompt: str, system: str | None, stream: bool, options: dict | None, extra: dict
) -> Shape:
    """Ollama's /api/generate body on a device; messages for a cloud provider."""

    def shape(decision: Decision) -> dict[str, Any]:
        if decision.provider == "ollama":
            payload: dict[str, Any] = {"model": decision.model, "prompt": prompt}
            if system:
                payload["system"] = system
            if options:
                payload["options"] = dict(options)
            payload.update({k: extra[k] for k in OLLAMA_PASSTHROUGH if extra.get(k) is not None})
        else:
            payload = dict(decision.payload)
        payload["stream"] = stream
        return payload

    return shape


def embed_shape(texts: str | list[str]) -> Shape:
    def shape(decision: Decision) -> dict[str, Any]:
        return {"model": decision.model, "input": texts}

    return shape
