"""Builds core's FastAPI application around an already started runtime."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from core.http import (
    costs,
    dashboard,
    fleet,
    health,
    jobs,
    ollama_compat,
    openai_compat,
    routing,
    ui,
    workers,
)
from core.http.errors import install_error_handlers
from llm_mcp.body_limit import BodySizeLimit, default_error_body

if TYPE_CHECKING:
    from core.runtime import CoreRuntime


def too_large_body(path: str, message: str) -> Any:
    """A 413 in the format the caller's client parses: the drop-in APIs speak their
    provider's error format, everything else ours."""
    if path.startswith("/api/"):
        return {"error": message}
    if path in ("/v1/chat/completions", "/v1/embeddings"):
        return {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": None,
                "code": "payload_too_large",
            }
        }
    return default_error_body(path, message)


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
    app.include_router(costs.router)
    app.include_router(ui.router)
    app.add_middleware(
        BodySizeLimit, max_bytes=runtime.settings.max_body_bytes, error_body=too_large_body
    )
    return app
