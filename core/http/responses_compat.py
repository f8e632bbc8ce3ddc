"""OpenAI-compatible Responses API, stateless: POST /v1/responses (what Codex-style agents
and the newest SDK code call).

Each response is one routed job on the chat-completions path (core.compat.chat_run); the
whole conversation comes in `input` every time. stream=true answers with the response.*
events the official SDK assembles; a failure after the start is a response.failed event.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from core.compat import openai_views as views
from core.compat import responses_shape as shape
from core.compat.chat_run import ChatRun, chat_answer, chat_chunks, start_chat
from core.compat.jobs import CompatJobs
from core.compat.responses_stream import ResponseEvents
from core.errors import CoreError
from core.http import openapi_compat as doc
from core.http.event_stream import Frame, event_stream, named_frame
from core.http.openai_compat import compat_jobs
from core.http.provider_route import OpenAIRoute

router = APIRouter(prefix="/v1", tags=["openai-compatible"], route_class=OpenAIRoute)
SOURCE = "openai-compat"


@router.post(
    "/responses",
    summary="OpenAI-compatible response, stateless (routed job)",
    **doc.documented(
        shape.ResponsesRequest,
        doc.ResponseObject,
        doc.OpenAIErrorResponse,
        statuses=doc.ROUTED_ERRORS,
    ),
)
async def create_response(request: Request, body: shape.ResponsesRequest) -> Response:
    """`input`: a text or items (messages, function_call, function_call_output); `store`
    and `previous_response_id` are refused: nothing is kept between calls."""
    jobs = compat_jobs(request)
    run = await start_chat(jobs, shape.chat_request(body), source=SOURCE)
    if not body.stream:
        completion = await chat_answer(jobs, run)
        answer = shape.from_completion(body, completion, run.route.model)
        return JSONResponse(answer, headers=run.headers)
    frames = _events(jobs, run, body)
    return event_stream(frames, run.headers)


async def _events(
    jobs: CompatJobs, run: ChatRun, body: shape.ResponsesRequest
) -> AsyncIterator[Frame]:
    hex_id = run.route.job_id.replace("-", "")
    events = ResponseEvents(body, hex_id, run.route.model, run.created)
    for event in events.start():
        yield named_frame(*event)
    try:
        async with contextlib.aclosing(chat_chunks(jobs, run, include_usage=True)) as chunks:
            async for chunk in chunks:
                for event in events.feed(chunk):
                    yield named_frame(*event)
    except CoreError as exc:
        error = views.error_for(exc)[1]["error"]
        for event in events.failed(error.get("code") or "server_error", error["message"]):
            yield named_frame(*event)
        return
    for event in events.finish():
        yield named_frame(*event)
