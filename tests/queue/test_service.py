"""The queue service's list cursors: they round-trip, and garbage is refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from core.errors import InvalidInput
from core.queue.service import decode_cursor, encode_cursor


def test_cursor_round_trips_and_garbage_is_refused() -> None:
    from core.queue.models import Job

    job_id = uuid.uuid4()
    at = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    job = Job(
        **{f: None for f in Job.__dataclass_fields__}
        | {"id": job_id, "queued_at": at, "payload": {}, "cancel_requested": False}
    )
    assert decode_cursor(encode_cursor(job)) == (at, job_id)
    with pytest.raises(InvalidInput):
        decode_cursor("not-a-cursor")
