"""Core's exception tree: the one error contract (`proto/errors.py`), which core raises and
every face (HTTP, drop-in APIs, gRPC) translates by class."""

from __future__ import annotations

from proto.errors import (
    Conflict,
    CoreError,
    CoreUnavailable,
    DeviceNotFound,
    ForeignOrigin,
    IdempotencyConflict,
    InvalidInput,
    JobFailedUpstream,
    JobFinished,
    JobNotFound,
    LeaseLost,
    MalformedJson,
    MethodNotAllowed,
    NoRoute,
    NotFound,
    NotImplementedByCore,
    PayloadTooLarge,
    StoreUnavailable,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
    echo,
)

__all__ = [
    "Conflict",
    "CoreError",
    "CoreUnavailable",
    "DeviceNotFound",
    "ForeignOrigin",
    "IdempotencyConflict",
    "InvalidInput",
    "JobFailedUpstream",
    "JobFinished",
    "JobNotFound",
    "LeaseLost",
    "MalformedJson",
    "MethodNotAllowed",
    "NoRoute",
    "NotFound",
    "NotImplementedByCore",
    "PayloadTooLarge",
    "StoreUnavailable",
    "Unauthorized",
    "UnsupportedMediaType",
    "ValidationFailed",
    "echo",
]
