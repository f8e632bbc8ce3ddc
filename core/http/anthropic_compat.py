"""Anthropic-compatible API: POST /v1/messages and POST /v1/messages/count_tokens, so Claude
Code and Anthropic's SDKs (ANTHROPIC_BASE_URL pointed at core) run on the fleet.

Each message is one routed job on the chat-completions path (core.compat.chat_run). The
token comes as `x-api-key` or `Authorization: Bearer`; errors are Anthropic's
{"type": "error", "error": {"type", "message"}}, in a stream too (an `error` event).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from core.compat import anthropic_errors, openai_views
from core.compat import anthropic_shape as shape
from core.compat.anthropic_stream import MessageEvents
from core.compat.chat_run import ChatRun, chat_answer, chat_chunks, check_model, start_chat
from core.compat.jobs import CompatJobs
from core.errors import CoreError
from core.http import openapi_compat as doc
from core.http.event_stream import Frame, event_stream, named_frame
from core.http.openai_compat import compat_jobs
from core.http.provider_route import AnthropicRoute

router = APIRouter(prefix="/v1", tags=["anthropic-compatible"], route_class=AnthropicRoute)
SOURCE = "anthropic-compat"


@router.post(
    "/messages",
    summary="Anthropic-compatible message (routed job)",
    **doc.documented(
        shape.MessagesRequest,
        doc.AnthropicMessage,
        doc.AnthropicErrorResponse,
        statuses=doc.ANTHROPIC_ERRORS,
    ),
)
async def create_message(request: Request, body: shape.MessagesRequest) -> Response:
    """`model`: a fleet model, `ollama/…`, `openai/…`, `openrouter/…` or `auto`.
    stream=true answers with Anthropic's server-sent events, message_start … message_stop."""
    chat, options = shape.chat_request(body)
    jobs = compat_jobs(request)
    run = await start_chat(jobs, chat, source=SOURCE, ollama_options=options or None)
    if not body.stream:
        completion = await chat_answer(jobs, run)
        answer = shape.message(completion, run.route.model, thinking=shape.wants_thinking(body))
        return JSONResponse(answer, headers=run.headers)
    frames = _events(jobs, run, thinking=shape.wants_thinking(body))
    return event_stream(frames, run.headers)


async def _events(jobs: CompatJobs, run: ChatRun, *, thinking: bool) -> AsyncIterator[Frame]:
    message_id = shape.message_id(openai_views.completion_id(run.route.job_id))
    events = MessageEvents(message_id, run.route.model, thinking=thinking)
    for event in events.start():
        yield named_frame(*event)
    try:
        async with contextlib.aclosing(chat_chunks(jobs, run, include_usage=True)) as chunks:
            async for chunk in chunks:
                for event in events.feed(chunk):
                    yield named_frame(*event)
    except CoreError as exc:
        for event in events.error(anthropic_errors.error_for(exc)[1]):
            yield named_frame(*event)
        return
    for event in events.finish():
        yield named_frame(*event)


@router.post(
    "/messages/count_tokens",
    summary="Anthropic-compatible token count (an estimate; no job)",
    **doc.documented(
        shape.CountTokensRequest,
        doc.AnthropicTokenCount,
        doc.AnthropicErrorResponse,
        statuses=doc.ANTHROPIC_ERRORS,
    ),
)
async def count_tokens(request: Request, body: shape.CountTokensRequest) -> Response:
    """About four characters a token: models in the fleet have different tokenizers."""
    fleet = await compat_jobs(request).fleet()
    check_model(fleet, body.model)
    return JSONResponse({"input_tokens": shape.count_tokens(body)})
