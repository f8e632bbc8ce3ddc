"""Ollama-compatible API on core: /api/generate, /api/chat, /api/embed, /api/embeddings,
/api/tags, /api/version. An Ollama client pointed at core is load-balanced over the fleet.

Streams are NDJSON as Ollama's (stream defaults to true); errors are Ollama's {"error": "..."}.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from core.compat import ollama_views as views
from core.compat import openai_views
from core.compat.jobs import Token, check_done
from core.compat.schemas import OllamaChat, OllamaEmbed, OllamaEmbeddings, OllamaGenerate
from core.compat.shape import chat_request, chat_shape, embed_request, embed_shape, generate_shape
from core.errors import CoreError
from core.http import openapi_compat as doc
from core.http.auth import require_client
from core.http.openai_compat import compat_jobs, provider_errors, read_body
from core.http.openapi import ok
from core.queue.models import Job

router = APIRouter(prefix="/api", tags=["ollama-compatible"])
SOURCE = "ollama-compat"
NDJSON = "application/x-ndjson"


# Ollama's clients read {"error": "message"}.
_ollama_errors = provider_errors(lambda body: {"error": body["error"]["message"]})


def _line(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, separators=(",", ":")) + "\n").encode()


async def _ndjson(
    items: AsyncIterator[Token | Job],
    piece: Callable[[str, str], dict[str, Any]],
    final: Callable[[Job], dict[str, Any]],
) -> AsyncIterator[bytes]:
    try:
        async for item in items:
            if isinstance(item, Token):
                yield _line(piece(item.delta, item.thinking))
                continue
            check_done(item)
            yield _line(final(item))
    except CoreError as exc:
        yield _line({"error": exc.message})


@router.post(
    "/generate",
    summary="Ollama-compatible generate (routed job)",
    **doc.documented(OllamaGenerate, doc.OllamaAnswer, doc.OllamaErrorResponse),
)
@_ollama_errors
async def generate(request: Request) -> Response:
    body = await read_body(request, OllamaGenerate)
    jobs = compat_jobs(request)
    messages = [{"role": "system", "content": body.system}] if body.system else []
    messages.append({"role": "user", "content": body.prompt})
    route = await jobs.start(
        lambda fleet: chat_request(
            fleet,
            model=body.model,
            messages=messages,
            priority=body.priority,
            source=SOURCE,
            local=True,
        ),
        generate_shape(
            prompt=body.prompt,
            system=body.system,
            stream=body.stream,
            options=body.options,
            extra=body.model_dump(exclude_none=True),
        ),
    )
    if not body.stream:
        job = await jobs.wait(route.job_id)
        return JSONResponse(views.generate_final(job, body.model, whole=True))
    frames = _ndjson(
        jobs.stream(route.job_id),
        lambda text, thinking: views.generate_line(body.model, text, thinking),
        lambda job: views.generate_final(job, body.model, whole=False),
    )
    return StreamingResponse(frames, media_type=NDJSON)


@router.post(
    "/chat",
    summary="Ollama-compatible chat (routed job)",
    **doc.documented(OllamaChat, doc.OllamaAnswer, doc.OllamaErrorResponse),
)
@_ollama_errors
async def chat(request: Request) -> Response:
    body = await read_body(request, OllamaChat)
    jobs = compat_jobs(request)
    messages = [{"role": m.role, "content": m.content or ""} for m in body.messages]
    route = await jobs.start(
        lambda fleet: chat_request(
            fleet,
            model=body.model,
            messages=messages,
            priority=body.priority,
            source=SOURCE,
            local=True,
        ),
        chat_shape(
            messages=messages,
            stream=body.stream,
            extra=body.model_dump(exclude_none=True),
            options=body.options,
        ),
    )
    if not body.stream:
        job = await jobs.wait(route.job_id)
        return JSONResponse(views.chat_final(job, body.model, whole=True))
    frames = _ndjson(
        jobs.stream(route.job_id),
        lambda text, thinking: views.chat_line(body.model, text, thinking),
        lambda job: views.chat_final(job, body.model, whole=False),
    )
    return StreamingResponse(frames, media_type=NDJSON)


async def _embed_job(request: Request, model: str, texts: str | list[str]) -> Job:
    jobs = compat_jobs(request)
    first = texts if isinstance(texts, str) else texts[0]
    route = await jobs.start(
        lambda fleet: embed_request(fleet, model=model, text=first, priority=0, source=SOURCE),
        embed_shape(texts),
    )
    return await jobs.wait(route.job_id)


@router.post(
    "/embed",
    summary="Ollama-compatible embed (routed job)",
    **doc.documented(OllamaEmbed, doc.OllamaEmbedAnswer, doc.OllamaErrorResponse),
)
@_ollama_errors
async def embed(request: Request) -> Response:
    body = await read_body(request, OllamaEmbed)
    job = await _embed_job(request, body.model, body.input)
    stats = views.stats(job)
    return JSONResponse(
        {
            "model": body.model,
            "embeddings": openai_views.vectors_of(job),
            "total_duration": stats.get("total_duration", 0),
            "load_duration": stats.get("load_duration", 0),
            "prompt_eval_count": stats.get("prompt_eval_count", 0),
        }
    )


@router.post(
    "/embeddings",
    summary="Ollama-compatible legacy embeddings (routed job)",
    **doc.documented(OllamaEmbeddings, doc.OllamaEmbeddingAnswer, doc.OllamaErrorResponse),
)
@_ollama_errors
async def embeddings(request: Request) -> Response:
    body = await read_body(request, OllamaEmbeddings)
    job = await _embed_job(request, body.model, [body.prompt])
    return JSONResponse({"embedding": openai_views.vectors_of(job)[0]})


@router.get(
    "/tags",
    summary="The union of the fleet's models, as Ollama lists them",
    **doc.documented(None, doc.OllamaTags, doc.OllamaErrorResponse),
)
@_ollama_errors
async def list_tags(request: Request) -> Response:
    require_client(request)
    catalog = (await request.app.state.runtime.fleet.list_models())["models"]
    return JSONResponse(views.tags(catalog))


@router.get(
    "/version", summary="The Ollama API version core speaks", responses=ok(doc.OllamaVersion)
)
async def version() -> dict[str, str]:
    return {"version": views.OLLAMA_VERSION}
