"""Core's answers (CoreClientError) as the bridge's HTTP errors {"error": {"code", "message"}}."""

from __future__ import annotations

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from proto.client import CoreClientError

# gRPC status -> (HTTP status, error code). Core's own message travels unchanged.
_MAPPING: dict[grpc.StatusCode, tuple[int, str]] = {
    grpc.StatusCode.NOT_FOUND: (404, "not_found"),
    grpc.StatusCode.INVALID_ARGUMENT: (422, "invalid_input"),
    grpc.StatusCode.ALREADY_EXISTS: (409, "conflict"),
    grpc.StatusCode.FAILED_PRECONDITION: (409, "conflict"),
    grpc.StatusCode.UNAVAILABLE: (503, "core_unavailable"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (503, "core_unavailable"),
    grpc.StatusCode.UNIMPLEMENTED: (501, "not_implemented"),
    # The bridge's own API_TOKEN was refused by core: a bridge misconfiguration, not the caller's.
    grpc.StatusCode.UNAUTHENTICATED: (502, "core_refused_bridge"),
    grpc.StatusCode.PERMISSION_DENIED: (502, "core_refused_bridge"),
}


def describe_core_error(exc: CoreClientError, core_addr: str) -> tuple[int, str, str]:
    """(HTTP status, code, message) for an error core answered (or failed to answer) with."""
    status, code = _MAPPING.get(exc.code, (502, "core_error")) if exc.code else (502, "core_error")
    message = exc.message
    if code == "core_unavailable":
        message = f"core is unreachable at {core_addr}: {exc.message}"
    elif code == "core_refused_bridge":
        message = f"core refused the bridge's credentials (check API_TOKEN): {exc.message}"
    elif code == "not_implemented":
        message = f"core does not implement this yet: {exc.message}"
    return status, code, message


def error_response(status: int, code: str, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


def install_error_handlers(app: FastAPI, core_addr: str) -> None:
    @app.exception_handler(CoreClientError)
    async def _core_error(_request: Request, exc: CoreClientError) -> JSONResponse:
        return error_response(*describe_core_error(exc, core_addr))

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = exc.errors()
        if any(p.get("type") == "json_invalid" for p in problems):
            return error_response(400, "malformed_json", "request body is not valid JSON")
        parts = []
        for p in problems[:10]:
            where = ".".join(str(x) for x in p.get("loc", ()) if x != "body") or "body"
            parts.append(f"{where}: {p.get('msg')}")
        return error_response(422, "validation_failed", "; ".join(parts))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail))
