"""OpenAI-compatible API: POST /v1/chat/completions, POST /v1/embeddings, GET
/v1/models/{id} (and the OpenAI fields of GET /v1/models, see core/http/fleet.py).

Each request is a routed job in the same queue as every other; the call waits for it.
Errors are OpenAI's {"error": {"message", "type", "param", "code"}}.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from core.compat import openai_views as views
from core.compat.chat_run import chat_answer, chat_chunks, route_headers, start_chat
from core.compat.jobs import CompatJobs
from core.compat.schemas import ChatCompletionRequest, EmbeddingRequest
from core.compat.shape import embed_request, embed_shape
from core.errors import CoreError, InvalidInput, UnknownModel
from core.http import openapi_compat as doc
from core.http.auth import check_client
from core.http.event_stream import Frame, data_frame, event_stream
from core.http.provider_route import OpenAIRoute
from core.routing.model_names import catalog_name

router = APIRouter(prefix="/v1", tags=["openai-compatible"], route_class=OpenAIRoute)
SOURCE = "openai-compat"


def compat_jobs(request: Request) -> CompatJobs:
    return request.app.state.runtime.compat


@router.post(
    "/chat/completions",
    summary="OpenAI-compatible chat completion (routed job)",
    **doc.documented(ChatCompletionRequest, doc.ChatCompletion, doc.OpenAIErrorResponse),
)
async def chat_completions(request: Request, body: ChatCompletionRequest) -> Response:
    """`model`: a fleet model, `ollama/…`, `openai/…`, `openrouter/…` or `auto`.
    stream=true answers with chat.completion.chunk events ending in `data: [DONE]`."""
    jobs = compat_jobs(request)
    run = await start_chat(jobs, body, source=SOURCE)
    if not body.stream:
        return JSONResponse(await chat_answer(jobs, run), headers=run.headers)
    usage = bool(body.stream_options and body.stream_options.include_usage)
    frames = _frames(chat_chunks(jobs, run, include_usage=usage))
    return event_stream(frames, run.headers)


async def _frames(chunks: AsyncIterator[dict[str, Any]]) -> AsyncIterator[Frame]:
    """Server-sent chunks ending in [DONE]; a failure after the start is OpenAI's in-stream
    error object."""
    try:
        async with contextlib.aclosing(chunks):
            async for chunk in chunks:
                yield data_frame(chunk)
    except CoreError as exc:
        yield data_frame(views.error_for(exc)[1])
        return
    yield data_frame("[DONE]")


@router.post(
    "/embeddings",
    summary="OpenAI-compatible embeddings (routed job on Ollama)",
    **doc.documented(EmbeddingRequest, doc.EmbeddingList, doc.OpenAIErrorResponse),
)
async def create_embeddings(request: Request, body: EmbeddingRequest) -> Response:
    if body.encoding_format not in (None, "float", "base64"):
        raise InvalidInput("encoding_format: float or base64")
    texts = views.embedding_texts(body.input)
    jobs = compat_jobs(request)
    first = texts if isinstance(texts, str) else texts[0]
    route = await jobs.start(
        lambda fleet: embed_request(
            fleet, model=body.model, text=first, priority=body.priority, source=SOURCE
        ),
        embed_shape(texts, {"dimensions": body.dimensions}),
    )
    job = await jobs.wait(route.job_id)
    vectors = views.with_dimensions(views.vectors_of(job), body.dimensions)
    return JSONResponse(
        views.embeddings(vectors, route.model, job, encoding=body.encoding_format or "float"),
        headers=route_headers(route),
    )


@router.get(
    "/models/{model_id:path}",
    summary="One model, in OpenAI's shape",
    **doc.documented(None, doc.OpenAIModel, doc.OpenAIErrorResponse),
)
async def retrieve_model(request: Request) -> Response:
    """A fleet model (no tag means `:latest`), `auto`, or a live cloud's model; 404
    model_not_found otherwise."""
    check_client(request)
    model_id = request.path_params["model_id"]
    view = await request.app.state.runtime.fleet.list_models()
    entries = {m["id"]: m for m in view.get("data", [])}
    found = entries.get(model_id) or entries.get(catalog_name(model_id, entries) or "")
    if found is None:
        raise UnknownModel(model_id, "not in the fleet's model list")
    return JSONResponse(found)
