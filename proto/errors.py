"""The one error contract: every error a caller can get from llm-mcp, as a class that carries
its stable code, its HTTP status and its gRPC status.

Core raises these; over gRPC the code travels in trailing metadata (`ERROR_CODE_KEY`) and the
client (`proto/client.py`) raises the same class again, so the worker, the bridge and MCP see
exactly what core meant. Every face (core's HTTP, the drop-in APIs, gRPC, the bridge's HTTP, MCP
tools) derives its answer from the class; no face keeps a table of its own. It lives beside the
client so that the worker, the bridge and telemetry can share it without importing core.
"""

from __future__ import annotations

from typing import ClassVar

import grpc

# The trailing-metadata key that carries an error's code across gRPC.
ERROR_CODE_KEY = "llm-mcp-error-code"

# Error messages go into gRPC's trailers (8 KB by default, percent-encoded) and into answers:
# bounded so that echoed input can never make an answer huge.
MAX_MESSAGE_CHARS = 700
MAX_ECHO_CHARS = 80

_BY_CODE: dict[str, type[CoreError]] = {}


def echo(value: object, limit: int = MAX_ECHO_CHARS) -> str:
    """`value` as a caller sent it, cut to `limit` characters, for quoting in a message."""
    text = str(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"


def _bounded(message: str) -> str:
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    return message[: MAX_MESSAGE_CHARS - 1] + "…"


class CoreError(Exception):
    """Base of every error reported to a caller. `code` is stable and machine-readable."""

    code: ClassVar[str] = "internal"
    http_status: ClassVar[int] = 500
    grpc_status: ClassVar[grpc.StatusCode] = grpc.StatusCode.INTERNAL
    # OpenAI's error `type`, which the drop-in APIs answer with.
    api_type: ClassVar[str] = "server_error"

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            raise TypeError(f"{cls.__name__} must name its own error code")
        if cls.code in _BY_CODE:
            raise TypeError(f"error code {cls.code!r} is taken by {_BY_CODE[cls.code].__name__}")
        _BY_CODE[cls.code] = cls

    def __init__(self, message: str) -> None:
        message = _bounded(message)
        super().__init__(message)
        self.message = message

    @classmethod
    def received(cls, message: str) -> CoreError:
        """An instance carrying another process's message (subclasses' own arguments skipped)."""
        exc = cls.__new__(cls)
        CoreError.__init__(exc, message)
        return exc


_BY_CODE[CoreError.code] = CoreError


class InvalidInput(CoreError):
    code = "invalid_input"
    http_status = 422
    grpc_status = grpc.StatusCode.INVALID_ARGUMENT
    api_type = "invalid_request_error"


class ValidationFailed(InvalidInput):
    """A request's fields broke the schema (types, bounds, unknown fields)."""

    code = "validation_failed"


class MalformedJson(InvalidInput):
    code = "malformed_json"
    http_status = 400


class InvalidEventId(InvalidInput):
    """A Last-Event-ID that is not an event id (see `proto/event_ids.py`)."""

    code = "invalid_last_event_id"
    http_status = 400


class UnknownModel(InvalidInput):
    """No provider of the fleet serves the model. Each API answers in its own shape: OpenAI
    404 model_not_found, Ollama 404 "model 'x' not found", Anthropic 404 not_found_error,
    ours 422 naming the model."""

    code = "model_not_found"
    # Unknown when the error was carried across gRPC (see `received`): the message says it.
    model = ""
    why = ""

    def __init__(self, model: str, why: str = "") -> None:
        super().__init__(f"model {echo(model)!r} not found" + (f": {why}" if why else ""))
        self.model = echo(model)
        self.why = why


class UnsupportedMediaType(CoreError):
    """A JSON route got a body that does not say it is JSON (a browser's cross-site form)."""

    code = "unsupported_media_type"
    http_status = 415
    grpc_status = grpc.StatusCode.INVALID_ARGUMENT
    api_type = "invalid_request_error"


class PayloadTooLarge(CoreError):
    code = "payload_too_large"
    http_status = 413
    grpc_status = grpc.StatusCode.INVALID_ARGUMENT
    api_type = "invalid_request_error"


class NotFound(CoreError):
    code = "not_found"
    http_status = 404
    grpc_status = grpc.StatusCode.NOT_FOUND
    api_type = "not_found_error"


class JobNotFound(NotFound):
    code = "job_not_found"

    def __init__(self, job_id: object) -> None:
        super().__init__(f"job {echo(job_id)} not found")


class DeviceNotFound(NotFound):
    code = "device_not_found"

    def __init__(self, device_id: str) -> None:
        super().__init__(f"device {echo(device_id)!r} not found")


class Conflict(CoreError):
    code = "conflict"
    http_status = 409
    grpc_status = grpc.StatusCode.ALREADY_EXISTS
    api_type = "invalid_request_error"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"


class LeaseLost(Conflict):
    """The caller no longer holds the job's lease: it expired, moved on, or the job finished.
    A worker that gets it drops the job."""

    code = "lease_lost"
    grpc_status = grpc.StatusCode.FAILED_PRECONDITION


class JobFinished(Conflict):
    """The job already ended (done, error or canceled), so it cannot change any more."""

    code = "job_finished"
    grpc_status = grpc.StatusCode.FAILED_PRECONDITION


class Unauthorized(CoreError):
    code = "unauthorized"
    http_status = 401
    grpc_status = grpc.StatusCode.UNAUTHENTICATED
    api_type = "authentication_error"


class ForeignOrigin(CoreError):
    """A browser request from a web origin not in CORS_ALLOWED_ORIGINS."""

    code = "origin_not_allowed"
    http_status = 403
    grpc_status = grpc.StatusCode.PERMISSION_DENIED
    api_type = "permission_error"


class MethodNotAllowed(CoreError):
    code = "method_not_allowed"
    http_status = 405
    grpc_status = grpc.StatusCode.UNIMPLEMENTED
    api_type = "invalid_request_error"


class NotImplementedByCore(CoreError):
    """Core does not implement this call (an older core than the caller)."""

    code = "not_implemented"
    http_status = 501
    grpc_status = grpc.StatusCode.UNIMPLEMENTED


class JobFailedUpstream(CoreError):
    """A drop-in request's job ended in error or was canceled; the message is the job's error."""

    code = "upstream_error"
    http_status = 502
    grpc_status = grpc.StatusCode.ABORTED
    api_type = "api_error"


class NoRoute(CoreError):
    """Nothing live can serve the request now (no worker runs the kind); worth retrying later."""

    code = "no_route"
    http_status = 503
    grpc_status = grpc.StatusCode.UNAVAILABLE
    api_type = "service_unavailable"


class CoreUnavailable(CoreError):
    """Core cannot serve now (not reachable, did not answer in time); try again later."""

    code = "core_unavailable"
    http_status = 503
    grpc_status = grpc.StatusCode.UNAVAILABLE
    api_type = "service_unavailable"


class StoreUnavailable(CoreUnavailable):
    """Core's database cannot be reached; the caller may try again."""

    code = "database_unavailable"


def error_classes() -> list[type[CoreError]]:
    """Every class of the contract, general ones first."""
    return list(_BY_CODE.values())


def class_for_code(code: str) -> type[CoreError] | None:
    return _BY_CODE.get(code)


# Statuses gRPC itself produces (no core code attached): what each means to a caller.
_TRANSPORT: dict[grpc.StatusCode, type[CoreError]] = {
    grpc.StatusCode.UNAVAILABLE: CoreUnavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: CoreUnavailable,
    grpc.StatusCode.UNIMPLEMENTED: NotImplementedByCore,
    grpc.StatusCode.PERMISSION_DENIED: Unauthorized,
}


def class_for_grpc_status(status: grpc.StatusCode) -> type[CoreError]:
    """What an answer that carries no code of ours means: gRPC's own failures first, else the
    most general class sent with `status`."""
    if status in _TRANSPORT:
        return _TRANSPORT[status]
    return next((c for c in _BY_CODE.values() if c.grpc_status == status), CoreError)


def grpc_trailers(exc: CoreError) -> tuple[tuple[str, str], ...]:
    return ((ERROR_CODE_KEY, exc.code),)
