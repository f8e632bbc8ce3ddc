"""The one Last-Event-ID rule, the same on core's SSE, the bridge's SSE and gRPC StreamJob.

An event id is a whole number from 0 to 2^63 - 1 (0 = from the start). Anything else (text,
a sign, a number past that) is refused before the stream starts: HTTP 400 / gRPC
INVALID_ARGUMENT, code `invalid_last_event_id`. A resume at or past the job's terminal event
gets that terminal event again (it carries the final state) and the stream ends, so a client
that reconnects after `done` learns the job is over instead of waiting forever.
"""

from __future__ import annotations

from proto.errors import InvalidEventId, echo

MAX_EVENT_ID = 2**63 - 1


def check_event_id(value: int) -> int:
    """`value` if it is a valid event id; raises InvalidEventId."""
    if not 0 <= value <= MAX_EVENT_ID:
        raise InvalidEventId(f"Last-Event-ID must be between 0 and {MAX_EVENT_ID}")
    return value


def parse_last_event_id(header: str | None) -> int:
    """The Last-Event-ID header as an event id (0 when absent); raises InvalidEventId."""
    if header is None or header.strip() == "":
        return 0
    text = header.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        raise InvalidEventId(
            f"Last-Event-ID must be a whole number from 0 to {MAX_EVENT_ID}, not {echo(text)!r}"
        )
    return check_event_id(int(text))
