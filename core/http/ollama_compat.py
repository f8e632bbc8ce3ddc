"""Ollama-compatible API on core: `/`, /api/generate, /api/chat, /api/embed, /api/embeddings,
/api/tags, /api/show, /api/ps, /api/pull, /api/version (copy, delete, create, push: 501).
An Ollama client pointed at core is load-balanced over the fleet.

Streams are NDJSON as Ollama's (stream defaults to true); errors are Ollama's {"error": "..."}.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from core.compat import ollama_views as views
from core.compat import openai_views
from core.compat.jobs import Token, check_done
from core.compat.ollama_devices import device_with_model, pull_target
from core.compat.schemas import (
    OllamaChat,
    OllamaEmbed,
    OllamaEmbeddings,
    OllamaGenerate,
    OllamaPull,
    OllamaShowRequest,
)
from core.compat.shape import (
    Shape,
    chat_request,
    embed_request,
    embed_shape,
    generate_shape,
    ollama_chat_shape,
)
from core.errors import CoreError, InvalidInput
from core.http import openapi_compat as doc
from core.http.auth import check_client
from core.http.openai_compat import compat_jobs
from core.http.openapi import ok
from core.http.provider_route import OllamaRoute
from core.queue.models import Job

router = APIRouter(prefix="/api", tags=["ollama-compatible"], route_class=OllamaRoute)
# Ollama answers its health probe at the root: clients check it before anything else.
root_router = APIRouter(tags=["ollama-compatible"])
SOURCE = "ollama-compat"
NDJSON = "application/x-ndjson"
RUNNING = "Ollama is running"


def _line(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, separators=(",", ":")) + "\n").encode()


async def _ndjson(
    items: AsyncIterator[Token | Job],
    piece: Callable[[str, str], dict[str, Any]],
    final: Callable[[Job], dict[str, Any]],
    calls: Callable[[Job], dict[str, Any] | None] = lambda _job: None,
) -> AsyncIterator[bytes]:
    try:
        async for item in items:
            if isinstance(item, Token):
                yield _line(piece(item.delta, item.thinking))
                continue
            check_done(item)
            if (line := calls(item)) is not None:
                yield _line(line)
            yield _line(final(item))
    except CoreError as exc:
        yield _line(views.error_for(exc)[1])


_ROOT = {
    "response_class": PlainTextResponse,
    "responses": {200: {"description": "text/plain: Ollama is running"}},
}


@root_router.head("/", summary="Ollama's health probe, headers only", **_ROOT)
@root_router.get("/", summary='Ollama\'s health probe: "Ollama is running"', **_ROOT)
async def root() -> PlainTextResponse:
    return PlainTextResponse(RUNNING)


async def _routed(
    request: Request,
    *,
    model: str,
    messages: list[dict[str, Any]],
    priority: int,
    shape: Shape,
    stream: bool,
    piece: Callable[[str, str], dict[str, Any]],
    final: Callable[[Job, bool], dict[str, Any]],
    calls: Callable[[Job], dict[str, Any] | None] = lambda _job: None,
) -> Response:
    """One generate or chat request as a routed job, answered whole or as NDJSON lines
    (`piece` per token, `calls` and `final(job, whole)` at the end)."""
    jobs = compat_jobs(request)
    route = await jobs.start(
        lambda fleet: chat_request(
            fleet, model=model, messages=messages, priority=priority, source=SOURCE, local=True
        ),
        shape,
    )
    if not stream:
        return JSONResponse(final(await jobs.wait(route.job_id), True))
    frames = _ndjson(jobs.stream(route.job_id), piece, lambda job: final(job, False), calls)
    return StreamingResponse(frames, media_type=NDJSON)


@router.post(
    "/generate",
    summary="Ollama-compatible generate (routed job)",
    **doc.documented(OllamaGenerate, doc.OllamaAnswer, doc.OllamaErrorResponse),
)
async def generate(request: Request, body: OllamaGenerate) -> Response:
    messages = [{"role": "system", "content": body.system}] if body.system else []
    messages.append({"role": "user", "content": body.prompt})
    sent = body.model_dump(exclude_none=True, exclude={"priority"})
    return await _routed(
        request,
        model=body.model,
        messages=messages,
        priority=body.priority,
        shape=generate_shape(sent, stream=body.stream),
        stream=body.stream,
        piece=lambda text, thinking: views.generate_line(body.model, text, thinking),
        final=lambda job, whole: views.generate_final(job, body.model, whole=whole),
    )


@router.post(
    "/chat",
    summary="Ollama-compatible chat (routed job)",
    **doc.documented(OllamaChat, doc.OllamaAnswer, doc.OllamaErrorResponse),
)
async def chat(request: Request, body: OllamaChat) -> Response:
    sent = body.model_dump(exclude_none=True, exclude={"priority"})
    return await _routed(
        request,
        model=body.model,
        messages=sent["messages"],
        priority=body.priority,
        shape=ollama_chat_shape(sent, stream=body.stream),
        stream=body.stream,
        piece=lambda text, thinking: views.chat_line(body.model, text, thinking),
        final=lambda job, whole: views.chat_final(job, body.model, whole=whole),
        calls=lambda job: views.tool_calls_line(job, body.model),
    )


async def _embed_job(
    request: Request, model: str, texts: str | list[str], extra: dict[str, Any] | None = None
) -> Job:
    jobs = compat_jobs(request)
    first = texts if isinstance(texts, str) else texts[0]
    route = await jobs.start(
        lambda fleet: embed_request(fleet, model=model, text=first, priority=0, source=SOURCE),
        embed_shape(texts, extra),
    )
    return await jobs.wait(route.job_id)


@router.post(
    "/embed",
    summary="Ollama-compatible embed (routed job)",
    **doc.documented(OllamaEmbed, doc.OllamaEmbedAnswer, doc.OllamaErrorResponse),
)
async def embed(request: Request, body: OllamaEmbed) -> Response:
    extra = body.model_dump(include={"options", "keep_alive", "truncate", "dimensions"})
    job = await _embed_job(request, body.model, body.input, extra)
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
async def embeddings(request: Request, body: OllamaEmbeddings) -> Response:
    extra = body.model_dump(include={"options", "keep_alive"})
    job = await _embed_job(request, body.model, [body.prompt], extra)
    return JSONResponse({"embedding": openai_views.vectors_of(job)[0]})


@router.get(
    "/tags",
    summary="The union of the fleet's models, as Ollama lists them",
    **doc.documented(None, doc.OllamaTags, doc.OllamaErrorResponse),
)
async def list_tags(request: Request) -> Response:
    check_client(request)
    catalog = (await request.app.state.runtime.fleet.list_models())["models"]
    return JSONResponse(views.tags(catalog))


@router.get(
    "/version", summary="The Ollama API version core speaks", responses=ok(doc.OllamaVersion)
)
async def version() -> dict[str, str]:
    return {"version": views.OLLAMA_VERSION}


@router.post(
    "/show",
    summary="A model's details, from a device that has it",
    **doc.documented(OllamaShowRequest, doc.OllamaShow, doc.OllamaErrorResponse),
)
async def show(request: Request, body: OllamaShowRequest) -> Response:
    if not body.wanted:
        raise InvalidInput("model is required")
    runtime = request.app.state.runtime
    device, name = device_with_model(await runtime.routing.fleet(), body.wanted)
    asked = {**body.model_dump(exclude_none=True, exclude={"name"}), "model": name}
    status, answer = await runtime.ollama_devices.show(device, asked)
    return JSONResponse(answer, status_code=status)


@router.get(
    "/ps",
    summary="The models loaded across the fleet (each with its device)",
    **doc.documented(None, doc.OllamaProcesses, doc.OllamaErrorResponse),
)
async def processes(request: Request) -> Response:
    check_client(request)
    runtime = request.app.state.runtime
    return JSONResponse(
        {"models": await runtime.ollama_devices.loaded(await runtime.routing.fleet())}
    )


@router.post(
    "/pull",
    summary="Pull a model onto a device (`device`, else routing's choice)",
    **doc.documented(OllamaPull, doc.OllamaStatus, doc.OllamaErrorResponse),
)
async def pull(request: Request, body: OllamaPull) -> Response:
    """Streams the device's own progress (NDJSON), then has the device probed again."""
    if not body.wanted:
        raise InvalidInput("model is required")
    runtime = request.app.state.runtime
    device = pull_target(await runtime.routing.fleet(), body.wanted, body.device)
    asked = body.model_dump(exclude_none=True, exclude={"device", "name", "priority"})
    asked["model"] = body.wanted
    progress = runtime.ollama_devices.pull(device, asked)
    headers = {"x-llm-mcp-device": device.id}

    async def rediscover(last: dict[str, Any]) -> None:
        """After a pull the fleet learns the model: the configured Ollama is probed again,
        any other device by a discovery round (unless one is running)."""
        if last.get("status") != "success":
            return
        discovery = runtime.fleet.discovery
        if discovery.configured is not None and discovery.configured.device_id == device.id:
            await discovery.refresh_configured()
        else:
            await discovery.run_once(wait=False)

    if not body.stream:
        last: dict[str, Any] = {}
        async for item in progress:
            last = item
        await rediscover(last)
        status = 500 if "error" in last else 200
        return JSONResponse(last or {"status": "success"}, status_code=status, headers=headers)

    async def lines() -> AsyncIterator[bytes]:
        last: dict[str, Any] = {}
        async for item in progress:
            last = item
            yield _line(item)
        await rediscover(last)

    return StreamingResponse(lines(), media_type=NDJSON, headers=headers)


def _not_here(verb: str) -> Callable[[Request], Any]:
    async def refuse(request: Request) -> Response:
        check_client(request)
        message = (
            f"{verb} is not available through llm-mcp: it serves a fleet of Ollama devices; "
            f"run `ollama {verb}` on the device itself"
        )
        return JSONResponse({"error": message}, status_code=501)

    return refuse


for _verb, _method in (
    ("copy", "POST"),
    ("delete", "DELETE"),
    ("create", "POST"),
    ("push", "POST"),
):
    router.add_api_route(
        f"/{_verb}",
        _not_here(_verb),
        methods=[_method],
        include_in_schema=False,  # not part of what core serves; Ollama clients get a 501
    )
