"""Core's errors as the bridge's HTTP answers {"error": {"code", "message"}}: the code and
status are the error class's own, as on core."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from proto.errors import CoreError, CoreUnavailable, NotImplementedByCore, Unauthorized
from proto.http_errors import error_response
from proto.http_errors import install_error_handlers as install_common_handlers


def describe_core_error(exc: CoreError, core_addr: str) -> tuple[int, str, str]:
    """(HTTP status, code, message) for an error core answered (or failed to answer) with."""
    status, message = exc.http_status, exc.message
    if type(exc) is CoreUnavailable:
        message = f"core is unreachable at {core_addr}: {exc.message}"
    elif isinstance(exc, Unauthorized):
        # Core refused the bridge's own API_TOKEN: a bridge misconfiguration, not the caller's.
        status = 502
        message = f"core refused the bridge's credentials (check API_TOKEN): {exc.message}"
    elif isinstance(exc, NotImplementedByCore):
        message = f"core does not implement this yet: {exc.message}"
    return status, exc.code, message


def install_error_handlers(app: FastAPI, core_addr: str) -> None:
    install_common_handlers(app)

    @app.exception_handler(CoreError)
    async def _core_error(_request: Request, exc: CoreError) -> JSONResponse:
        return error_response(*describe_core_error(exc, core_addr))
