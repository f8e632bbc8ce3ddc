"""Core's exception tree. HTTP and gRPC translate these in one place each."""

from __future__ import annotations


class CoreError(Exception):
    """Base of every error core reports to a caller; `code` is a stable machine-readable name."""

    code = "internal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(CoreError):
    code = "invalid_input"


class NotFound(CoreError):
    code = "not_found"


class JobNotFound(NotFound):
    code = "job_not_found"

    def __init__(self, job_id: object) -> None:
        super().__init__(f"job {job_id} not found")


class ModelNotFound(NotFound):
    """No provider serves the model a drop-in request named; refused before any job."""

    code = "model_not_found"


class Conflict(CoreError):
    code = "conflict"


class LeaseLost(Conflict):
    """The caller no longer holds the job's lease: it expired, moved on, or the job finished."""

    code = "lease_lost"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"


class JobFinished(Conflict):
    code = "job_finished"


class Unauthorized(CoreError):
    code = "unauthorized"


class PayloadTooLarge(CoreError):
    code = "payload_too_large"


class NoRoute(CoreError):
    """Nothing live can serve the request now (no worker runs the kind); worth retrying later."""

    code = "no_route"


class StoreUnavailable(CoreError):
    """The database cannot be reached (503 / UNAVAILABLE); the caller may try again."""

    code = "database_unavailable"
