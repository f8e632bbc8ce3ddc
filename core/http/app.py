"""Builds core's FastAPI application around an already started runtime."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from core.compat import anthropic_errors
from core.compat.openai_views import error_for
from core.errors import CoreError, ForeignOrigin, PayloadTooLarge, UnsupportedMediaType
from core.http import (
    anthropic_compat,
    completions_compat,
    costs,
    dashboard,
    fleet,
    health,
    jobs,
    ollama_compat,
    openai_compat,
    responses_compat,
    routing,
    ui,
    workers,
)
from core.http.errors import install_error_handlers
from serving.body_limit import BodySizeLimit
from serving.cross_site import CrossSiteGuard, default_error_body

if TYPE_CHECKING:
    from core.runtime import CoreRuntime


# Routes whose clients read OpenAI's error format.
OPENAI_PATHS = frozenset(
    {"/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses"}
)


def refusal_body(path: str, error: CoreError) -> Any:
    """A refusal made before any route runs (size, media type, origin), in the format the
    caller's client parses: the drop-in APIs speak their provider's, everything else ours."""
    if path.startswith("/api/"):
        return {"error": error.message}
    if path.startswith("/v1/messages"):
        return anthropic_errors.error_for(error)[1]
    if path in OPENAI_PATHS:
        return error_for(error)[1]
    return default_error_body(path, error)


def too_large_body(path: str, message: str) -> Any:
    return refusal_body(path, PayloadTooLarge(message))


def create_app(runtime: CoreRuntime) -> FastAPI:
    app = FastAPI(
        title="llm-mcp core",
        version="0.1.0",
        description="Durable LLM job queue and router: submit jobs, follow them, run them.",
    )
    app.state.runtime = runtime
    app.state.settings = runtime.settings
    app.state.queue = runtime.queue
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(jobs.router)
    app.include_router(workers.router)
    app.include_router(fleet.router)
    app.include_router(routing.router)
    app.include_router(dashboard.router)
    app.include_router(openai_compat.router)
    app.include_router(ollama_compat.router)
    app.include_router(completions_compat.router)
    app.include_router(responses_compat.router)
    app.include_router(anthropic_compat.router)
    app.include_router(ollama_compat.root_router)
    app.include_router(costs.router)
    app.include_router(ui.router)
    app.add_middleware(
        BodySizeLimit, max_bytes=runtime.settings.max_body_bytes, error_body=too_large_body
    )
    # Outermost: a cross-site request is refused before anything reads its body.
    app.add_middleware(
        CrossSiteGuard,
        allowed_origins=runtime.settings.cors_allowed_origins,
        foreign_origin=ForeignOrigin,
        unsupported_media_type=UnsupportedMediaType,
        error_body=refusal_body,
    )
    return app
