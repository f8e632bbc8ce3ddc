"""OpenAI-compatible API: POST /v1/chat/completions, POST /v1/embeddings, GET
/v1/models/{id} (and the OpenAI fields of GET /v1/models, see core/http/fleet.py).

Each request is a routed job in the same queue as every other; the call waits for it.
Errors are OpenAI's {"error": {"message", "type", "param", "code"}}.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError

from core.compat import openai_views as views
from core.compat.chat_run import chat_answer, chat_chunks, route_headers, start_chat
from core.compat.jobs import CompatJobs
from core.compat.schemas import ChatCompletionRequest, EmbeddingRequest
from core.compat.shape import embed_request, embed_shape
from core.errors import (
    CoreError,
    InvalidInput,
    JobFailedUpstream,
    MalformedJson,
    StoreUnavailable,
    UnknownModel,
)
from core.http import openapi_compat as doc
from core.http.auth import require_client
from core.http.event_stream import Frame, data_frame, event_stream
from core.routing.model_names import catalog_name

router = APIRouter(prefix="/v1", tags=["openai-compatible"])
SOURCE = "openai-compat"


def compat_jobs(request: Request) -> CompatJobs:
    return request.app.state.runtime.compat


M = TypeVar("M", bound=BaseModel)


async def read_body(
    request: Request, model: type[M], *, authorize: Callable[[Request], None] = require_client
) -> M:
    """The validated body (after the client token check); raises for the caller's format."""
    authorize(request)
    try:
        data = json.loads(await request.body() or b"null")
    except ValueError as exc:
        raise MalformedJson(f"request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidInput("request body is nested too deeply") from None
    if not isinstance(data, dict):
        raise InvalidInput("request body must be a JSON object")
    return model.model_validate(data)


Handler = Callable[[Request], Awaitable[Response]]


def provider_errors(
    error_for: Callable[[Exception], tuple[int, Any]] = views.error_for,
) -> Callable[[Handler], Handler]:
    """Turns our errors into a provider's error answer (`error_for`: status and body)."""

    def decorate(handler: Handler) -> Handler:
        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except (CoreError, ValidationError, StoreUnavailable) as exc:
                status, body = error_for(exc)
                headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
                if isinstance(exc, JobFailedUpstream):
                    # The queue already retried the job; a client's own retry is another job.
                    headers["x-should-retry"] = "false"
                return JSONResponse(body, status_code=status, headers=headers)

        wrapped.__name__ = handler.__name__
        wrapped.__doc__ = handler.__doc__
        return wrapped

    return decorate


_openai_errors = provider_errors()


@router.post(
    "/chat/completions",
    summary="OpenAI-compatible chat completion (routed job)",
    **doc.documented(ChatCompletionRequest, doc.ChatCompletion, doc.OpenAIErrorResponse),
)
@_openai_errors
async def chat_completions(request: Request) -> Response:
    """`model`: a fleet model, `ollama/…`, `openai/…`, `openrouter/…` or `auto`.
    stream=true answers with chat.completion.chunk events ending in `data: [DONE]`."""
    body = await read_body(request, ChatCompletionRequest)
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
@_openai_errors
async def create_embeddings(request: Request) -> Response:
    body = await read_body(request, EmbeddingRequest)
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
@_openai_errors
async def retrieve_model(request: Request) -> Response:
    """A fleet model (no tag means `:latest`), `auto`, or a live cloud's model; 404
    model_not_found otherwise."""
    require_client(request)
    model_id = request.path_params["model_id"]
    view = await request.app.state.runtime.fleet.list_models()
    entries = {m["id"]: m for m in view.get("data", [])}
    found = entries.get(model_id) or entries.get(catalog_name(model_id, entries) or "")
    if found is None:
        raise UnknownModel(model_id, "not in the fleet's model list")
    return JSONResponse(found)
