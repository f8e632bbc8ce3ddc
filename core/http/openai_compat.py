"""OpenAI-compatible API: POST /v1/chat/completions, POST /v1/embeddings, GET
/v1/models/{id} (and the OpenAI fields of GET /v1/models, see core/http/fleet.py).

Each request is a routed job in the same queue as every other; the call waits for it.
Errors are OpenAI's {"error": {"message", "type", "param", "code"}}.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ValidationError

from core.compat import openai_views as views
from core.compat.jobs import CompatJobs, Token, check_done
from core.compat.schemas import ChatCompletionRequest, EmbeddingRequest
from core.compat.shape import chat_request, embed_request, embed_shape, openai_chat_shape
from core.errors import CoreError, InvalidInput, MalformedJson, StoreUnavailable, UnknownModel
from core.http import openapi_compat as doc
from core.http.auth import require_client
from core.queue.models import Job
from core.routing.model_names import catalog_name

router = APIRouter(prefix="/v1", tags=["openai-compatible"])
SOURCE = "openai-compat"


def compat_jobs(request: Request) -> CompatJobs:
    return request.app.state.runtime.compat


M = TypeVar("M", bound=BaseModel)


async def read_body(request: Request, model: type[M]) -> M:
    """The validated body (after the client token check); raises for the caller's format."""
    require_client(request)
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
                headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
                return JSONResponse(body, status_code=status, headers=headers)

        wrapped.__name__ = handler.__name__
        wrapped.__doc__ = handler.__doc__
        return wrapped

    return decorate


_openai_errors = provider_errors()


def _headers(route: Any) -> dict[str, str]:
    return {
        "x-llm-mcp-job-id": route.job_id,
        "x-llm-mcp-provider": route.provider,
        "x-llm-mcp-device": route.device_id or "",
    }


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
    sent = body.model_dump(exclude_none=True)
    max_tokens = body.max_tokens or body.max_completion_tokens
    route = await jobs.start(
        lambda fleet: chat_request(
            fleet,
            model=body.model,
            messages=sent["messages"],
            temperature=body.temperature,
            max_tokens=max_tokens,
            priority=body.priority,
            prefer_local=body.prefer_local,
            fallback=body.fallback,
            source=SOURCE,
        ),
        openai_chat_shape(sent, stream=body.stream),
    )
    created = int(time.time())
    if not body.stream:
        job = await jobs.wait(route.job_id)
        return JSONResponse(
            views.chat_completion(job, route.model, created), headers=_headers(route)
        )
    usage = bool(body.stream_options and body.stream_options.include_usage)
    frames = _chunks(jobs.stream(route.job_id), route.job_id, route.model, created, usage)
    return StreamingResponse(frames, media_type="text/event-stream", headers=_headers(route))


def _sse(data: dict[str, Any] | str) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return f"data: {text}\n\n".encode()


async def _chunks(
    items: AsyncIterator[Token | Job], job_id: str, model: str, created: int, usage: bool
) -> AsyncIterator[bytes]:
    yield _sse(views.chunk(job_id, model, created, {"role": "assistant", "content": ""}))
    try:
        async for frame in _token_chunks(items, job_id, model, created, usage):
            yield frame
    except CoreError as exc:
        yield _sse(views.error_for(exc)[1])


async def _token_chunks(
    items: AsyncIterator[Token | Job], job_id: str, model: str, created: int, usage: bool
) -> AsyncIterator[bytes]:
    async for item in items:
        if isinstance(item, Token):
            if item.thinking:
                delta = {"reasoning_content": item.thinking}
                yield _sse(views.chunk(job_id, model, created, delta))
            if item.delta:
                yield _sse(views.chunk(job_id, model, created, {"content": item.delta}))
            continue
        check_done(item)  # a failed job: the caller sends the error
        for delta in views.tool_call_deltas(item):
            yield _sse(views.chunk(job_id, model, created, delta))
        finish = views.finish_reason(item)
        yield _sse(views.chunk(job_id, model, created, {}, finish_reason=finish))
        if usage:
            yield _sse(views.usage_chunk(item, model, created))
    yield _sse("[DONE]")


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
        headers=_headers(route),
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
