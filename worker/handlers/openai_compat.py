"""openai.chat and openrouter.chat: the OpenAI-compatible chat completions API."""

from __future__ import annotations

import time
from typing import Any

from proto.contract import (
    CLOUD_CHAT_FIELDS,
    DEVICE_ID,
    LATENCY_MS,
    MODEL,
    PROVIDER,
    RESPONSE,
    THINKING,
    TOKENS_IN,
    TOKENS_OUT,
    TPS,
    chat_kind,
    text_result,
)
from worker.handlers.base import Handler, JobContext, JobFailed, Outcome
from worker.handlers.http_client import provider_client
from worker.handlers.http_errors import post_json, post_stream
from worker.handlers.streams import TextParts, read_openai


class OpenAICompatible:
    """One provider (OpenAI or OpenRouter) with its own HTTP client, key and default model."""

    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        api_key: str,
        model: str,
        timeout: float = 300.0,
        connect_timeout: float = 5.0,
        max_connections: int = 64,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.client = provider_client(
            timeout=timeout,
            connect_timeout=connect_timeout,
            max_connections=max_connections,
            headers={"Authorization": f"Bearer {api_key}"},
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    def handlers(self) -> dict[str, Handler]:
        return {chat_kind(self.provider): self.chat}

    async def chat(self, job: JobContext) -> Outcome:
        payload = job.payload
        body: dict[str, Any] = {k: payload[k] for k in CLOUD_CHAT_FIELDS if k in payload}
        if "messages" not in body:
            if "prompt" not in payload:
                raise JobFailed("payload needs messages or prompt", retryable=False)
            body["messages"] = [{"role": "user", "content": str(payload["prompt"])}]
        body["model"] = payload.get("model") or self.model
        url = f"{self.base_url}/chat/completions"
        parts = TextParts(job.progress if job.wants_stream else None)
        started = time.perf_counter()
        if parts.progress is None:
            body["stream"] = False
            answer = await post_json(self.client, self.provider, url, body)
            if not isinstance(answer, dict):
                raise JobFailed(f"{self.provider} answered with something that is not an object")
            message = _first_message(answer)
            reasoning = message.get("reasoning_content") or message.get("reasoning") or ""
            parts.add(str(message.get("content") or ""), str(reasoning))
            parts.finish()
        else:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
            async with post_stream(self.client, self.provider, url, body) as response:
                answer = await read_openai(response, parts, self.provider, body["model"])
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        usage = answer.get("usage") or {}
        tokens_out = usage.get("completion_tokens")
        tps = None
        if isinstance(tokens_out, int) and latency_ms > 0:
            tps = round(tokens_out / (latency_ms / 1000), 3)
        text = parts.result()
        return Outcome(
            result=text_result(answer, text[RESPONSE], text[THINKING], with_text=True),
            metrics={
                LATENCY_MS: latency_ms,
                TOKENS_IN: usage.get("prompt_tokens"),
                TOKENS_OUT: tokens_out,
                TPS: tps,
                PROVIDER: self.provider,
                MODEL: answer.get("model") or body["model"],
                DEVICE_ID: None,
            },
        )


def _first_message(answer: dict[str, Any]) -> dict[str, Any]:
    choices = answer.get("choices") or []
    if choices and isinstance(choices[0], dict):
        message = choices[0].get("message")
        if isinstance(message, dict):
            return message
    return {}
