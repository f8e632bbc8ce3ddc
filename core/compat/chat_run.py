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
from core.compat.shape import chat_request, openai_chat_shape
from core.errors import InvalidInput, NoRoute
from core.routing.decide import Decision, route
from core.routing.fleet import Fleet
from core.routing.schemas import LlmRequest
from core.routing.service import RouteResult


def check_model(fleet: Fleet, model: str | None) -> None:
    """Raises UnknownModel when no provider of the fleet serves `model`, as a routed request
    would, without writing anything (for calls that run no job, such as count_tokens)."""
    probe = chat_request(
        fleet, model=model or "auto", messages=[{"role": "user", "content": "."}], source="check"
    )
    with contextlib.suppress(NoRoute):  # served, only not right now
        route(probe, fleet)


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
    sent = body.model_dump(exclude_none=True)
    max_tokens = body.max_tokens or body.max_completion_tokens

    def make(fleet: Fleet) -> LlmRequest:
        return chat_request(
            fleet,
            model=body.model,
            messages=sent["messages"],
            temperature=body.temperature,
            max_tokens=max_tokens,
            priority=body.priority,
            prefer_local=body.prefer_local,
            fallback=body.fallback,
            source=source,
        )

    shape = openai_chat_shape(sent, stream=body.stream)

    def shape_for(decision: Decision) -> dict[str, Any]:
        if not ollama_options:
            return shape(decision)
        if decision.provider != "ollama":
            names = ", ".join(sorted(ollama_options))
            raise InvalidInput(f"{names}: {decision.provider} has no such parameter")
        payload = shape(decision)
        payload["options"] = {**payload.get("options", {}), **ollama_options}
        return payload

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
            check_done(item)  # a failed job: the consumer sends the error
            for delta in views.tool_call_deltas(item):
                yield views.chunk(job_id, model, created, delta)
            finish = views.finish_reason(item)
            yield views.chunk(job_id, model, created, {}, finish_reason=finish)
            if include_usage:
                yield views.usage_chunk(item, model, created)
