"""Our errors in Anthropic's shape: {"type": "error", "error": {"type", "message"}} with the
status Anthropic gives that type. Pure."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from core import errors
from core.compat.jobs import JobFailedUpstream

# (exception, HTTP status, Anthropic error type)
_ERRORS: list[tuple[type[Exception], int, str]] = [
    (errors.Unauthorized, 401, "authentication_error"),
    (errors.NotFound, 404, "not_found_error"),
    (errors.InvalidInput, 400, "invalid_request_error"),
    (errors.PayloadTooLarge, 413, "request_too_large"),
    (errors.Conflict, 409, "invalid_request_error"),
    # Nothing can serve it now: Anthropic's "overloaded", which its clients retry later.
    (errors.NoRoute, 529, "overloaded_error"),
    (errors.StoreUnavailable, 529, "overloaded_error"),
    (JobFailedUpstream, 502, "api_error"),
]


def error_body(type_: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": type_, "message": message}}


def error_for(exc: Exception) -> tuple[int, dict[str, Any]]:
    """(status, Anthropic error body) for one of our exceptions or a validation error."""
    if isinstance(exc, ValidationError):
        message = "; ".join(
            f"{'.'.join(str(x) for x in p.get('loc', ())) or 'body'}: {p.get('msg')}"
            for p in exc.errors()[:10]
        )
        return 400, error_body("invalid_request_error", message)
    for cls, status, type_ in _ERRORS:
        if isinstance(exc, cls):
            return status, error_body(type_, getattr(exc, "message", str(exc)))
    return 500, error_body("api_error", "internal error")
