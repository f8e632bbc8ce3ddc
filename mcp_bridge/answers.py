"""Pulling the answer text and token counts out of a finished job's result.

Pure functions over plain JSON. Our workers' results follow `proto/contract.py`: the answer
text in `response` (`text` too for the cloud chat kinds), the provider's own answer in `data`,
the token counts in the job's metrics. A custom executor's result may instead be a provider's
answer itself (Ollama /api/generate or /api/chat, an OpenAI-style chat completion), read the
same way as `data`.
"""

from __future__ import annotations

from typing import Any

from proto.contract import DATA, RESPONSE, TEXT, TOKENS_IN, TOKENS_OUT


def _layers(result: Any) -> list[dict[str, Any]]:
    """The result and the provider answer it wraps (`data`), those that are objects."""
    layers = [result] if isinstance(result, dict) else []
    if layers and isinstance(result.get(DATA), dict):
        layers.append(result[DATA])
    return layers


def _provider_text(answer: dict[str, Any]) -> str | None:
    """The text of a provider's own answer: a chat completion's first choice, Ollama's chat
    message, Ollama's generate `response`."""
    choices = answer.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        first = choices[0]
        message = first.get("message")
        if isinstance(message, dict) and isinstance(message.get("content"), str):
            return message["content"]
        if isinstance(first.get("text"), str):
            return first["text"]
    message = answer.get("message")
    if isinstance(message, dict) and isinstance(message.get("content"), str):
        return message["content"]
    return None


def answer_text(result: Any) -> str | None:
    """The model's answer text, or None when the result holds none (embeddings, echo)."""
    if isinstance(result, str):
        return result
    for layer in _layers(result):
        for field in (RESPONSE, TEXT):
            if isinstance(layer.get(field), str):
                return layer[field]
        if (text := _provider_text(layer)) is not None:
            return text
    return None


def token_counts(result: Any, metrics: Any = None) -> tuple[int | None, int | None]:
    """(tokens_in, tokens_out) from the job's metrics or the provider's answer."""
    pairs = (
        (TOKENS_IN, TOKENS_OUT),
        ("prompt_tokens", "completion_tokens"),
        ("prompt_eval_count", "eval_count"),
        ("input_tokens", "output_tokens"),
    )
    for item in [*_layers(metrics), *_layers(result)]:
        usage = item.get("usage") if isinstance(item.get("usage"), dict) else None
        for source in (item, usage):
            if not source:
                continue
            for key_in, key_out in pairs:
                if key_in in source or key_out in source:
                    return _int(source.get(key_in)), _int(source.get(key_out))
    return None, None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
