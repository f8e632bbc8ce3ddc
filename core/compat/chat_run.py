"""One OpenAI chat-completions request as a routed job, answered as OpenAI's own objects.

The OpenAI route sends these objects as they are; the Anthropic Messages and OpenAI Responses
surfaces translate their requests into a ChatCompletionRequest, run it here, and translate
the chat.completion (or its chat.completion.chunk stream) back into their own shape.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from core.compat import openai_views as views
from core.compat.jobs import CompatJobs, Token, check_done
from core.compat.schemas import ChatCompletionRequest
from core.compat.shape import chat_request, chat_shape
from core.errors import InvalidInput, ModelNotFound
from core.routing.decide import Decision
from core.routing.fleet import Fleet
from core.routing.schemas import LlmRequest
from core.routing.service import RouteResult


def ollama_serves(fleet: Fleet, model: str) -> bool:
    """Whether a device has the model (with no devices known, the worker's Ollama decides)."""
    return not fleet.ollama_devices or model in fleet.catalog()


def served(req: LlmRequest, fleet: Fleet) -> LlmRequest:
    """The request, unless it names an Ollama model no device has: ModelNotFound (404)."""
    if req.provider == "ollama" and req.model and not ollama_serves(fleet, req.model):
        raise ModelNotFound(f"model '{req.model}' not found")
    return req


def route_headers(route: RouteResult) -> dict[str, str]:
    """Our routing headers, on every drop-in answer."""
    return {
        "x-llm-mcp-job-id": route.job_id,
        "x-llm-mcp-provider": route.provider,
        "x-llm-mcp-device": route.device_id or "",
    }


@dataclass(frozen=True)
class ChatRun:
    """A started chat job: where it went and what its answer objects are stamped with."""

    route: RouteResult
    created: int

    @property
    def headers(self) -> dict[str, str]:
        return route_headers(self.route)


async def start_chat(
    jobs: CompatJobs,
    body: ChatCompletionRequest,
    *,
    source: str,
    ollama_options: dict[str, Any] | None = None,
) -> ChatRun:
    """Routes and enqueues the request (nothing is written when routing refuses it).

    `ollama_options`: Ollama options a device gets beside the mapped ones (e.g. top_k, which
    OpenAI's request has no field for)."""
    messages = [{"role": m.role, "content": m.content or ""} for m in body.messages]
    max_tokens = body.max_tokens or body.max_completion_tokens

    def make(fleet: Fleet) -> LlmRequest:
        return served(
            chat_request(
                fleet,
                model=body.model,
                messages=messages,
                temperature=body.temperature,
                max_tokens=max_tokens,
                priority=body.priority,
                prefer_local=body.prefer_local,
                fallback=body.fallback,
                source=source,
            ),
            fleet,
        )

    shape = chat_shape(
        messages=messages,
        stream=body.stream,
        extra=body.model_dump(exclude_none=True),
        temperature=body.temperature,
        max_tokens=max_tokens,
        options=ollama_options,
        cloud_messages=[m.model_dump(exclude_none=True) for m in body.messages],
    )

    def shape_for(decision: Decision) -> dict[str, Any]:
        if ollama_options and decision.provider != "ollama":
            names = ", ".join(sorted(ollama_options))
            raise InvalidInput(f"{names}: {decision.provider} has no such parameter")
        return shape(decision)

    route = await jobs.start(make, shape_for)
    return ChatRun(route=route, created=int(time.time()))


async def chat_answer(jobs: CompatJobs, run: ChatRun) -> dict[str, Any]:
    """The chat.completion; JobFailedUpstream when the job did not finish done."""
    job = await jobs.wait(run.route.job_id)
    return views.chat_completion(job, run.route.model, run.created)


async def chat_chunks(
    jobs: CompatJobs, run: ChatRun, *, include_usage: bool = False
) -> AsyncIterator[dict[str, Any]]:
    """chat.completion.chunk objects: the role, text as it streams, tool calls, the finish
    (and usage when asked). Raises JobFailedUpstream after the first chunk when the job fails;
    a consumer that stops early cancels the job."""
    job_id, model, created = run.route.job_id, run.route.model, run.created
    yield views.chunk(job_id, model, created, {"role": "assistant", "content": ""})
    # Closed as soon as the consumer stops, so a client that went away cancels its job now.
    async with contextlib.aclosing(jobs.stream(job_id)) as items:
        async for item in items:
            if isinstance(item, Token):
                if item.thinking:
                    thinking = {"reasoning_content": item.thinking}
                    yield views.chunk(job_id, model, created, thinking)
                if item.delta:
                    yield views.chunk(job_id, model, created, {"content": item.delta})
                continue
            answer = views.chat_completion(check_done(item), model, created)
            choice = answer["choices"][0]
            # Tool calls are known once the job is done: one delta each, as OpenAI streams.
            calls = choice["message"].get("tool_calls") or []
            if calls:
                indexed = [{"index": i, **call} for i, call in enumerate(calls)]
                yield views.chunk(job_id, model, created, {"tool_calls": indexed})
            yield views.chunk(job_id, model, created, {}, finish_reason=choice["finish_reason"])
            if include_usage:
                yield views.usage_chunk(item, model, created)
