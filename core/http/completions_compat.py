"""OpenAI-compatible legacy completions: POST /v1/completions (what older SDK code, LiteLLM's
text-completion path and many IDE plugins call).

A prompt is one routed job (several prompts, several jobs: choice i answers prompt i). On a
device it is Ollama's /api/generate, so the prompt is completed as given.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from core.compat import completions_shape as shape
from core.compat import openai_views as views
from core.compat.chat_run import route_headers
from core.compat.jobs import CompatJobs, Token, check_done
from core.compat.shape import chat_request
from core.errors import CoreError, InvalidInput
from core.http import openapi_compat as doc
from core.http.event_stream import Frame, data_frame, event_stream
from core.http.openai_compat import compat_jobs
from core.http.provider_route import OpenAIRoute
from core.routing.service import RouteResult

router = APIRouter(prefix="/v1", tags=["openai-compatible"], route_class=OpenAIRoute)
SOURCE = "openai-compat"


async def _start(
    jobs: CompatJobs, body: shape.CompletionRequest, prompt: str, *, stream: bool
) -> RouteResult:
    return await jobs.start(
        lambda fleet: chat_request(
            fleet,
            model=body.model,
            messages=[{"role": "user", "content": prompt}],
            temperature=body.temperature,
            max_tokens=body.max_tokens,
            priority=body.priority,
            prefer_local=body.prefer_local,
            source=SOURCE,
        ),
        shape.completion_shape(body, prompt, stream=stream),
    )


@router.post(
    "/completions",
    summary="OpenAI-compatible legacy text completion (routed job)",
    **doc.documented(
        shape.CompletionRequest,
        doc.TextCompletion,
        doc.OpenAIErrorResponse,
        statuses=doc.ROUTED_ERRORS,
    ),
)
async def create_completion(request: Request, body: shape.CompletionRequest) -> Response:
    """`prompt`: a text or up to 16 texts (one job each). stream=true answers with
    text_completion chunks ending in `data: [DONE]` (one prompt)."""
    prompts = body.prompts
    if body.stream and len(prompts) > 1:
        raise InvalidInput("prompt: a streamed completion takes one prompt")
    jobs = compat_jobs(request)
    created = int(time.time())
    if body.stream:
        route = await _start(jobs, body, prompts[0], stream=True)
        usage = bool(body.stream_options and body.stream_options.include_usage)
        frames = _frames(jobs, route, created, echo=prompts[0] if body.echo else "", usage=usage)
        return event_stream(frames, route_headers(route))
    routes = [await _start(jobs, body, p, stream=False) for p in prompts]
    finished = await asyncio.gather(*(jobs.wait(r.job_id) for r in routes))
    choices, usages = [], []
    for i, (route, job) in enumerate(zip(routes, finished, strict=True)):
        chat = views.chat_completion(job, route.model, created)
        text = (prompts[i] if body.echo else "") + (chat["choices"][0]["message"]["content"] or "")
        choices.append(shape.choice(text, i, chat["choices"][0]["finish_reason"]))
        usages.append(chat["usage"])
    answer = shape.text_completion(
        routes[0].job_id, routes[0].model, created, choices, shape.added_usage(usages)
    )
    return JSONResponse(answer, headers=route_headers(routes[0]))


async def _frames(
    jobs: CompatJobs, route: RouteResult, created: int, *, echo: str, usage: bool
) -> AsyncIterator[Frame]:
    def chunk(text: str, finish: str | None = None) -> Frame:
        choices = [shape.choice(text, 0, finish)]
        return data_frame(shape.text_completion(route.job_id, route.model, created, choices, None))

    if echo:
        yield chunk(echo)
    try:
        async with contextlib.aclosing(jobs.stream(route.job_id)) as items:
            async for item in items:
                if isinstance(item, Token):
                    if item.delta:
                        yield chunk(item.delta)
                    continue
                chat = views.chat_completion(check_done(item), route.model, created)
                yield chunk("", chat["choices"][0]["finish_reason"])
                if usage:
                    final = shape.text_completion(
                        route.job_id, route.model, created, [], chat["usage"]
                    )
                    yield data_frame(final)
    except CoreError as exc:
        yield data_frame(views.error_for(exc)[1])
        return
    yield data_frame("[DONE]")
