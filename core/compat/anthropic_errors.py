"""Our errors in Anthropic's shape: {"type": "error", "error": {"type", "message"}}, with the
status each error class carries and the error type Anthropic gives that status. Pure."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from core import errors

# Anthropic's error type for each status it answers with.
_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    502: "api_error",
    529: "overloaded_error",
}


def error_body(type_: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": type_, "message": message}}


def _status(exc: errors.CoreError) -> int:
    if isinstance(exc, errors.UnknownModel):
        return 404
    if exc.http_status == 503:
        # Nothing can serve it now: Anthropic's "overloaded", which its clients retry later.
        return 529
    if exc.http_status in (409, 415, 422):
        return 400  # Anthropic's clients know 400 for any bad request
    return exc.http_status


def error_for(exc: Exception) -> tuple[int, dict[str, Any]]:
    """(status, Anthropic error body) for one of our exceptions or a validation error."""
    if isinstance(exc, ValidationError):
        message = "; ".join(
            f"{'.'.join(str(x) for x in p.get('loc', ())) or 'body'}: {p.get('msg')}"
            for p in exc.errors()[:10]
        )
        return 400, error_body("invalid_request_error", message)
    if isinstance(exc, errors.CoreError):
        status = _status(exc)
        return status, error_body(_TYPES.get(status, "api_error"), exc.message)
    return 500, error_body("api_error", "internal error")
