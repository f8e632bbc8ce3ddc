"""OpenAPI documentation of the drop-in APIs (OpenAI- and Ollama-compatible) and of /v1/costs.

FastAPI reads and documents the compatible routes' bodies (core/http/provider_route.py answers
their errors in the provider's own format); these entries tell /openapi.json what comes out.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.compat.schemas import (
    ChatCompletionRequest,
    EmbeddingRequest,
    OllamaChat,
    OllamaEmbed,
    OllamaEmbeddings,
    OllamaGenerate,
)


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str = Field(examples=["invalid_request_error"])
    param: str | None = None
    code: str | None = None


class OpenAIErrorResponse(BaseModel):
    """OpenAI's error shape, which OpenAI clients parse."""

    error: OpenAIErrorDetail


class AnthropicErrorDetail(BaseModel):
    type: str = Field(examples=["not_found_error"])
    message: str


class AnthropicErrorResponse(BaseModel):
    """Anthropic's error shape, which Anthropic clients parse."""

    type: str = Field(examples=["error"])
    error: AnthropicErrorDetail


class OllamaErrorResponse(BaseModel):
    """Ollama's error shape: {"error": "message"}."""

    error: str


_WHEN = {
    400: "the body is not valid JSON, or names a field the chosen provider cannot take",
    401: "missing or wrong bearer token (API_TOKEN)",
    404: "no provider of the fleet serves the model (nothing is enqueued)",
    413: "the body is larger than MAX_BODY_BYTES",
    422: "a field is missing, malformed or out of bounds, or no model/device fits",
    503: "no provider or device can serve the request now",
    502: "the routed job failed; the message is its error",
    529: "no provider or device can serve the request now (Anthropic's overloaded_error)",
}
BODY_ERRORS = (400, 401, 404, 413, 422, 503)
# The routed drop-in routes also answer these.
ROUTED_ERRORS = (*BODY_ERRORS, 502)
ANTHROPIC_ERRORS = (400, 401, 404, 413, 422, 502, 529)


def compat_errors(error_model: type[BaseModel], *statuses: int) -> dict[int | str, Any]:
    return {s: {"model": error_model, "description": _WHEN[s]} for s in statuses}


def documented(
    request: type[BaseModel] | None,
    answer: type[BaseModel],
    error_model: type[BaseModel],
    *,
    statuses: tuple[int, ...] | None = None,
) -> dict[str, Any]:
    """The route keywords documenting a drop-in route: its answer and errors (`statuses`: the
    error statuses, when not the usual ones). `request` is the body model the route takes,
    which FastAPI reads and documents itself; it decides the usual statuses."""
    if statuses is None:
        statuses = BODY_ERRORS if request else (401, 404, 503)
    return {
        "response_model": answer,
        "responses": {
            200: {"description": answer.__doc__ or "OK"},
            **compat_errors(error_model, *statuses),
        },
    }


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ChatCompletion(_Open):
    """An OpenAI chat.completion (stream=true: text/event-stream of chat.completion.chunk)."""

    id: str
    object: str = Field(examples=["chat.completion"])
    created: int
    model: str
    choices: list[dict[str, Any]]
    usage: dict[str, Any] | None = None


class EmbeddingList(_Open):
    """An OpenAI embedding list."""

    object: str = Field(examples=["list"])
    data: list[dict[str, Any]]
    model: str


class OllamaAnswer(_Open):
    """Ollama's final answer object (stream=true, the default: NDJSON of partial objects)."""

    model: str
    created_at: str
    done: bool


class OllamaEmbedAnswer(_Open):
    """Ollama's /api/embed answer."""

    model: str
    embeddings: list[list[float]]


class OllamaEmbeddingAnswer(_Open):
    """Ollama's legacy /api/embeddings answer."""

    embedding: list[float]


class OllamaTags(_Open):
    """The fleet's models, as Ollama's /api/tags lists them."""

    models: list[dict[str, Any]]


class OpenAIModel(_Open):
    """An OpenAI model object."""

    id: str
    object: str = Field(examples=["model"])
    created: int
    owned_by: str


class OllamaShow(_Open):
    """Ollama's /api/show answer, from a device that has the model."""

    details: dict[str, Any] | None = None
    model_info: dict[str, Any] | None = None


class OllamaProcesses(_Open):
    """The models loaded across the fleet, as Ollama's /api/ps lists them (with `device`)."""

    models: list[dict[str, Any]]


class OllamaStatus(_Open):
    """Ollama's progress object (stream=true: NDJSON of them)."""

    status: str


class OllamaVersion(BaseModel):
    """The Ollama API version core speaks."""

    version: str


class TextCompletion(_Open):
    """An OpenAI text_completion (stream=true: text/event-stream of the same objects)."""

    id: str
    object: str = Field(examples=["text_completion"])
    created: int
    model: str
    choices: list[dict[str, Any]]
    usage: dict[str, Any] | None = None


class ResponseObject(_Open):
    """An OpenAI Responses `response` (stream=true: text/event-stream of response.* events)."""

    id: str
    object: str = Field(examples=["response"])
    created_at: int
    status: str = Field(examples=["completed"])
    model: str
    output: list[dict[str, Any]]


class AnthropicMessage(_Open):
    """An Anthropic message (stream=true: text/event-stream, message_start … message_stop)."""

    id: str
    type: str = Field(examples=["message"])
    role: str = Field(examples=["assistant"])
    model: str
    content: list[dict[str, Any]]
    stop_reason: str | None = None
    usage: dict[str, Any]


class AnthropicTokenCount(BaseModel):
    """The request's estimated input tokens."""

    input_tokens: int


class CostSummary(_Open):
    """Costs of the jobs finished in the period, by provider and model (local = 0)."""

    period: str = Field(examples=["day"])
    since: str
    until: str
    total_usd: float
    jobs: int
    unpriced_jobs: int
    by_model: list[dict[str, Any]]


class PriceTable(_Open):
    """Model prices, USD per 1M tokens in and out."""

    prices: list[dict[str, Any]]


OPENAI_BODIES = {"chat": ChatCompletionRequest, "embeddings": EmbeddingRequest}
OLLAMA_BODIES = {
    "generate": OllamaGenerate,
    "chat": OllamaChat,
    "embed": OllamaEmbed,
    "embeddings": OllamaEmbeddings,
}
