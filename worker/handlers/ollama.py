"""Ollama kinds: ollama.generate, ollama.embed and their benchmark twins.

The device comes from the payload core filled in at claim time (`ollama_addr`, `ollama_host`,
`num_ctx_limit`); a job bound to no device goes to OLLAMA_BASE_URL.
"""

from __future__ import annotations

import time
from typing import Any

from proto.contract import (
    BENCHMARK,
    BENCHMARK_FIGURES,
    BENCHMARK_OLLAMA_EMBED,
    BENCHMARK_OLLAMA_GENERATE,
    DATA,
    DEVICE_ID,
    LATENCY_MS,
    MODEL,
    NUM_CTX_LIMIT,
    OLLAMA_ADDR,
    OLLAMA_EMBED,
    OLLAMA_GENERATE,
    PROVIDER,
    RESPONSE,
    ROUTING_KEYS,
    THINKING,
    TOKENS_IN,
    TOKENS_OUT,
    TPS,
    text_result,
)
from worker.handlers.base import Handler, JobContext, JobFailed, Outcome
from worker.handlers.http_client import provider_client
from worker.handlers.http_errors import post_json, post_stream
from worker.handlers.streams import TextParts, read_ollama

DEFAULT_PORT = 11434


def base_url(addr: str) -> str:
    """ "100.64.0.1" -> "http://100.64.0.1:11434"; full URLs are kept (without a trailing /)."""
    addr = addr.strip().rstrip("/")
    if "://" not in addr:
        addr = f"http://{addr}"
    rest = addr.partition("://")[2]
    host = rest.split("/", 1)[0]
    if ":" not in host.rsplit("]", 1)[-1]:
        addr = addr.replace(host, f"{host}:{DEFAULT_PORT}", 1)
    return addr


def capped_options(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The payload's options with num_ctx capped at the device's context limit."""
    options = payload.get("options")
    limit = payload.get(NUM_CTX_LIMIT)
    if not isinstance(options, dict):
        return options
    if isinstance(limit, int) and isinstance(options.get("num_ctx"), int):
        if options["num_ctx"] > limit:
            return {**options, "num_ctx": limit}
    return options


def speed(answer: dict[str, Any]) -> tuple[int | None, int | None, float | None]:
    """(tokens_in, tokens_out, tokens/s) from prompt_eval_count, eval_count, eval_duration."""
    tokens_in = answer.get("prompt_eval_count")
    tokens_out = answer.get("eval_count")
    duration_ns = answer.get("eval_duration")
    tps = None
    if isinstance(tokens_out, int) and isinstance(duration_ns, int | float) and duration_ns > 0:
        tps = round(tokens_out / (duration_ns / 1e9), 3)
    return tokens_in, tokens_out, tps


class Ollama:
    """One HTTP client for every Ollama the worker talks to."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        embed_model: str,
        timeout: float = 300.0,
        connect_timeout: float = 5.0,
        max_connections: int = 64,
    ) -> None:
        self.default_base_url = base_url
        self.model = model
        self.embed_model = embed_model
        self.client = provider_client(
            timeout=timeout, connect_timeout=connect_timeout, max_connections=max_connections
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    def handlers(self) -> dict[str, Handler]:
        return {
            OLLAMA_GENERATE: self.generate,
            OLLAMA_EMBED: self.embed,
            BENCHMARK_OLLAMA_GENERATE: self.benchmark_generate,
            BENCHMARK_OLLAMA_EMBED: self.benchmark_embed,
        }

    def _url(self, job: JobContext, path: str) -> str:
        addr = job.payload.get(OLLAMA_ADDR)
        if isinstance(addr, str) and addr:
            return base_url(addr) + path
        return self.default_base_url.rstrip("/") + path

    async def _call(
        self, job: JobContext, path: str, body: dict[str, Any]
    ) -> tuple[dict[str, Any], float]:
        url = self._url(job, path)
        started = time.perf_counter()
        answer = await post_json(self.client, "ollama", url, body)
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        if not isinstance(answer, dict):
            raise JobFailed("ollama answered with something that is not an object")
        return answer, latency_ms

    def _metrics(self, job: JobContext, model: str, latency_ms: float, answer: dict) -> dict:
        tokens_in, tokens_out, tps = speed(answer)
        return {
            LATENCY_MS: latency_ms,
            TOKENS_IN: tokens_in,
            TOKENS_OUT: tokens_out,
            TPS: tps,
            PROVIDER: "ollama",
            MODEL: model,
            DEVICE_ID: job.device_id or None,
        }

    async def _generate(self, job: JobContext) -> tuple[dict, dict, dict]:
        """(Ollama's answer, metrics, {response, thinking}); /api/chat when given messages."""
        payload = job.payload
        body = {k: v for k, v in payload.items() if k not in ROUTING_KEYS}
        body["model"] = payload.get("model") or self.model
        options = capped_options(payload)
        if options is not None:
            body["options"] = options
        chat = isinstance(payload.get("messages"), list)
        path = "/api/chat" if chat else "/api/generate"
        parts = TextParts(job.progress if job.wants_stream else None)
        if parts.progress is None:
            body["stream"] = False
            answer, latency_ms = await self._call(job, path, body)
            source = (answer.get("message") or {}) if chat else answer
            text = source.get("content" if chat else "response") or ""
            parts.add(str(text), str(source.get("thinking") or ""))
            parts.finish()
        else:
            body["stream"] = True
            started = time.perf_counter()
            async with post_stream(self.client, "ollama", self._url(job, path), body) as response:
                answer = await read_ollama(response, parts, chat=chat)
            latency_ms = round((time.perf_counter() - started) * 1000, 3)
        return answer, self._metrics(job, body["model"], latency_ms, answer), parts.result()

    async def _embed(self, job: JobContext) -> tuple[dict, dict]:
        """/api/embed for a payload with `input` (text or texts), else /api/embeddings."""
        payload = job.payload
        model = payload.get("model") or self.embed_model
        batch = "input" in payload
        body: dict[str, Any] = {"model": model}
        if batch:
            body["input"] = payload["input"]
        else:
            body["prompt"] = payload.get("prompt", "")
        if isinstance(payload.get("options"), dict):
            body["options"] = capped_options(payload)
        for key in ("keep_alive", "dimensions", "truncate"):
            if key in payload and (batch or key == "keep_alive"):
                body[key] = payload[key]
        path = "/api/embed" if batch else "/api/embeddings"
        answer, latency_ms = await self._call(job, path, body)
        key = "embeddings" if batch else "embedding"
        if not isinstance(answer.get(key), list):
            raise JobFailed(f"ollama answered without {key}", retryable=False)
        return answer, self._metrics(job, model, latency_ms, answer)

    async def generate(self, job: JobContext) -> Outcome:
        answer, metrics, text = await self._generate(job)
        return Outcome(result=text_result(answer, text[RESPONSE], text[THINKING]), metrics=metrics)

    async def embed(self, job: JobContext) -> Outcome:
        answer, metrics = await self._embed(job)
        if "embeddings" in answer:
            data = {"embeddings": answer["embeddings"]}
        else:
            data = {"embedding": answer["embedding"]}
        return Outcome(result={DATA: data}, metrics=metrics)

    async def benchmark_generate(self, job: JobContext) -> Outcome:
        _answer, metrics, _text = await self._generate(job)
        return _benchmark(metrics, "generate")

    async def benchmark_embed(self, job: JobContext) -> Outcome:
        _answer, metrics = await self._embed(job)
        return _benchmark(metrics, "embed")


def _benchmark(metrics: dict[str, Any], task_type: str) -> Outcome:
    figures = {k: metrics[k] for k in BENCHMARK_FIGURES}
    return Outcome(
        result=figures,
        metrics={**metrics, BENCHMARK: True},
        benchmark={**figures, "task_type": task_type, "model": metrics[MODEL]},
    )
