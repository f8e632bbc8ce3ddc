"""Input rules every schema of core shares, so HTTP and gRPC (which build the same schemas)
enforce the same bounds: whole numbers are numbers (never `true`), no NUL anywhere (Postgres
text cannot hold it), timestamps inside the range the database and Python can both store,
and documents (tags, metrics) of bounded size."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Strict, model_validator

# `true` is not 1 and "5" is not 5: a number field takes a JSON number.
StrictInt = Annotated[int, Strict()]
StrictFloat = Annotated[float, Strict()]

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)
MAX_DOCUMENT_BYTES = 64 * 1024
_MAX_WALK_DEPTH = 64


def json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def nul_path(value: Any, path: str = "", depth: int = 0) -> str | None:
    """Where in `value` a string (or a key) holds a NUL character, else None."""
    if isinstance(value, str):
        return path or "value" if "\x00" in value else None
    if depth > _MAX_WALK_DEPTH:
        return None  # depth is bounded elsewhere; json.dumps refuses the rest
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and "\x00" in key:
                return where
            if found := nul_path(item, where, depth + 1):
                return found
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            if found := nul_path(item, f"{path}[{i}]", depth + 1):
                return found
    return None


def in_range(name: str, value: datetime | None) -> datetime | None:
    """`value` as an aware UTC-comparable time, or ValueError outside 1970..9999."""
    if value is None:
        return None
    if value.tzinfo is None:
        # A timestamp without an offset is taken as UTC rather than the server's local time.
        value = value.replace(tzinfo=UTC)
    try:
        inside = EARLIEST <= value <= LATEST
    except OverflowError:
        inside = False
    if not inside:
        raise ValueError(f"{name} must be between 1970-01-01 and 9999-01-01 (UTC)")
    return value


def bounded_document(name: str, value: Any, limit: int = MAX_DOCUMENT_BYTES) -> Any:
    """`value` unless its JSON is larger than `limit` bytes (ValueError)."""
    if value is not None and json_size(value) > limit:
        raise ValueError(f"{name} is larger than {limit // 1024} KiB")
    return value


class StrictModel(BaseModel):
    """Unknown fields refused, whitespace stripped, NUL refused in every string."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if where := nul_path(data):
            raise ValueError(f"{where[:80]} contains a NUL character")
        return data
