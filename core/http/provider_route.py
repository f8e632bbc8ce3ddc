"""Route classes of the drop-in APIs: FastAPI reads and validates a route's body, and every
error (a bad body, or one of ours raised by the handler) is answered in the provider's own
shape, which its clients parse.

A route that takes a body checks the client's token first, as the provider does: a request
without one gets 401, whatever its body.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError
from starlette.exceptions import HTTPException

from core.compat import anthropic_errors, ollama_views, openai_views
from core.errors import (
    CoreError,
    InvalidInput,
    JobFailedUpstream,
    MalformedJson,
    StoreUnavailable,
)
from core.http.auth import check_client, check_client_key

# What a body that is not an object fails with, at the body itself.
_NOT_AN_OBJECT = {"missing", "model_type", "model_attributes_type", "dict_type"}


class ProviderRoute(APIRoute):
    """A drop-in route; a subclass per provider names its error shape and token check."""

    @staticmethod
    def error_for(exc: Exception) -> tuple[int, Any]:
        return openai_views.error_for(exc)

    @staticmethod
    def authorize(request: Request) -> None:
        check_client(request)

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handle = super().get_route_handler()
        error_for, authorize = self.error_for, self.authorize
        takes_body = self.body_field is not None

        async def answer(request: Request) -> Response:
            try:
                if takes_body:
                    authorize(request)
                return await handle(request)
            except RequestValidationError as exc:
                return _error(error_for(_body_error(exc)))
            except HTTPException as exc:
                # FastAPI's word for whatever failed while it read the body.
                cause = exc.__cause__
                if isinstance(cause, RecursionError):
                    return _error(error_for(InvalidInput("request body is nested too deeply")))
                if isinstance(cause, ValueError):  # not UTF-8
                    return _error(
                        error_for(MalformedJson(f"request body is not valid JSON: {cause}"))
                    )
                if cause is not None:
                    raise cause from None  # e.g. the body size limit's, which answers 413
                raise
            except (CoreError, ValidationError, StoreUnavailable) as exc:
                return _error(error_for(exc), retry=not isinstance(exc, JobFailedUpstream))

        return answer


class OpenAIRoute(ProviderRoute):
    """OpenAI's {"error": {"message", "type", "param", "code"}}."""


class OllamaRoute(ProviderRoute):
    """Ollama's {"error": "..."}."""

    @staticmethod
    def error_for(exc: Exception) -> tuple[int, Any]:
        return ollama_views.error_for(exc)


class AnthropicRoute(ProviderRoute):
    """Anthropic's {"type": "error", "error": {"type", "message"}}; the token may come as
    x-api-key."""

    @staticmethod
    def error_for(exc: Exception) -> tuple[int, Any]:
        return anthropic_errors.error_for(exc)

    @staticmethod
    def authorize(request: Request) -> None:
        check_client_key(request)


def _error(answer: tuple[int, Any], *, retry: bool = True) -> JSONResponse:
    status, body = answer
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if not retry:
        # The queue already retried the job; a client's own retry is another job.
        headers["x-should-retry"] = "false"
    return JSONResponse(body, status_code=status, headers=headers)


def _body_error(exc: RequestValidationError) -> Exception:
    """FastAPI's verdict on a body as one of our errors, or as the model's ValidationError
    (its locations within the body, as the providers' clients know them)."""
    problems = list(exc.errors())
    first = problems[0] if problems else {}
    if first.get("type") == "json_invalid":
        detail = (first.get("ctx") or {}).get("error", "JSON decode error")
        where = first["loc"][1] if len(first.get("loc", ())) > 1 else 0
        text = exc.body if isinstance(exc.body, str) else ""
        reason = json.JSONDecodeError(detail, text, where) if text else detail
        return MalformedJson(f"request body is not valid JSON: {reason}")
    if tuple(first.get("loc", ())) == ("body",) and first.get("type") in _NOT_AN_OBJECT:
        return InvalidInput("request body must be a JSON object")
    details: list[InitErrorDetails] = [
        {
            "type": PydanticCustomError(str(p.get("type", "value_error")), str(p["msg"])),
            "loc": tuple(p.get("loc", ()))[1:],
            "input": p.get("input"),
        }
        for p in problems
    ]
    return ValidationError.from_exception_data("body", details)
