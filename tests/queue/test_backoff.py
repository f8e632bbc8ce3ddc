"""Retry delays: doubling with jitter, capped."""

from __future__ import annotations

import random

import pytest

from core.queue.backoff import retry_delay


def test_retry_delay_doubles_with_jitter_and_is_capped() -> None:
    rng = random.Random(7)
    for attempt, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (10, 60.0)]:
        delays = [
            retry_delay(attempt, base_seconds=2.0, cap_seconds=60.0, rng=rng) for _ in range(200)
        ]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 10  # jittered, not constant
    with pytest.raises(ValueError):
        retry_delay(0)
