"""Retry delays: exponential backoff with jitter."""

from __future__ import annotations

import random


def retry_delay(
    attempt: int,
    *,
    base_seconds: float = 1.0,
    cap_seconds: float = 300.0,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retrying after failed attempt number `attempt` (counts from 1).

    "Equal jitter": uniform in [d/2, d] with d = min(cap, base * 2**(attempt-1)),
    so a retry always waits at least half the backoff, and jobs that failed
    together spread out instead of coming back in one wave.
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    ceiling = min(cap_seconds, base_seconds * 2 ** min(attempt - 1, 62))
    return (rng or random).uniform(ceiling / 2, ceiling)
