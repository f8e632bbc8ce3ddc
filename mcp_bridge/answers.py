"""Pulling the answer text and token counts out of a finished job's result, whatever the provider.

Pure functions over plain JSON: Ollama (/api/generate, /api/chat), OpenAI-style chat
completions (OpenAI, OpenRouter), and our own {"text": ...} shapes.
"""

from __future__ import annotations

from typing import Any


def _candidates(result: Any) -> list[dict[str, Any]]:
    """The result and the wrappers workers put provider answers in (`data`, `response`)."""
    found: list[dict[str, Any]] = []
    queue = [result]
    while queue and len(found) < 6:
        item = queue.pop(0)
        if isinstance(item, dict):
            found.append(item)
            queue.extend(item.get(k) for k in ("data", "raw", "result") if k in item)
    return found


def answer_text(result: Any) -> str | None:
    """The model's answer text, or None when the result holds none (embeddings, echo)."""
    if isinstance(result, str):
        return result
    for item in _candidates(result):
        choices = item.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict):
            first = choices[0]
            message = first.get("message")
            if isinstance(message, dict) and isinstance(message.get("content"), str):
                return message["content"]
            if isinstance(first.get("text"), str):
                return first["text"]
        message = item.get("message")
        if isinstance(message, dict) and isinstance(message.get("content"), str):
            return message["content"]
        for key in ("text", "answer", "response", "content", "output"):
            if isinstance(item.get(key), str):
                return item[key]
    return None


def token_counts(result: Any, metrics: Any = None) -> tuple[int | None, int | None]:
    """(tokens_in, tokens_out) from the job's metrics or the provider's answer."""
    pairs = (
        ("tokens_in", "tokens_out"),
        ("prompt_tokens", "completion_tokens"),
        ("prompt_eval_count", "eval_count"),
        ("input_tokens", "output_tokens"),
    )
    for item in [*_candidates(metrics), *_candidates(result)]:
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
