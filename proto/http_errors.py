"""Errors as HTTP answers {"error": {"code", "message"}}, status and code taken from the error
class (`proto/errors.py`). Shared by core and the MCP bridge (both HTTP servers of llm-mcp)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from proto import errors


def error_response(status: int, code: str, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


def core_error_response(exc: errors.CoreError) -> JSONResponse:
    return error_response(exc.http_status, exc.code, exc.message)


def describe_validation(exc: RequestValidationError) -> errors.CoreError:
    """FastAPI's validation error as ours: MalformedJson or ValidationFailed."""
    problems = exc.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        detail = next(p for p in problems if p.get("type") == "json_invalid")
        return errors.MalformedJson(f"request body is not valid JSON: {detail.get('msg')}")
    parts = []
    for p in problems[:10]:
        where = ".".join(str(x) for x in p.get("loc", ()) if x != "body") or "body"
        parts.append(f"{errors.echo(where)}: {p.get('msg')}")
    return errors.ValidationFailed("; ".join(parts))


def http_exception_response(exc: StarletteHTTPException) -> JSONResponse:
    """Starlette's own answers (unknown route, wrong method) in our format."""
    known = {404: errors.NotFound, 405: errors.MethodNotAllowed}.get(exc.status_code)
    if known is not None:
        return core_error_response(known(str(exc.detail)))
    return error_response(exc.status_code, "http_error", str(exc.detail))


def install_error_handlers(app: FastAPI) -> None:
    """CoreError, validation and routing errors, all as {"error": {"code", "message"}}."""

    @app.exception_handler(errors.CoreError)
    async def _core_error(_request: Request, exc: errors.CoreError) -> JSONResponse:
        return core_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return core_error_response(describe_validation(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return http_exception_response(exc)
