"""Ids a caller hands the queue: a job id (anything else is an unknown job) and a lease token."""

from __future__ import annotations

import uuid

from core.errors import InvalidInput, JobNotFound, echo


def parse_job_id(value: str | uuid.UUID) -> uuid.UUID:
    """Raises JobNotFound for anything that is not a job id."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise JobNotFound(value) from None


def parse_lease_token(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidInput(f"lease_token {echo(value)!r} is not a lease token") from None
