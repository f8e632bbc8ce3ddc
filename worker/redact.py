"""Keeps the worker's secrets (provider keys, tokens) out of what it reports to core.

A provider may echo the key it got in its error ("Incorrect API key provided: sk-..."); that
text becomes the job's error, stored in rows and shown to clients, so it is redacted first.
"""

from __future__ import annotations

from pydantic import BaseModel, SecretStr

REDACTED = "[redacted]"
# Shorter values are not secrets worth the false positives (and would mangle ordinary text).
MIN_SECRET_LENGTH = 6


def secrets_of(settings: BaseModel) -> tuple[str, ...]:
    """The values of every SecretStr field that is set, longest first."""
    found = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr) and len(value.get_secret_value()) >= MIN_SECRET_LENGTH:
            found.append(value.get_secret_value())
    return tuple(sorted(set(found), key=len, reverse=True))


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text
