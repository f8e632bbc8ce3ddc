"""The queue's last hour, minute by minute: pure merging of what the store reads.

The page's charts cover an hour; reading the whole hour at every refresh would scan every job
that finished in it, so the live dashboard reads the hour once and then only the last minutes,
merged here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

HISTORY_MINUTES = 60


@dataclass(frozen=True, slots=True)
class MinuteStats:
    minute: datetime  # the minute's start
    done: int
    failed: int
    p50_ms: float | None  # queued → finished
    p95_ms: float | None


def merge_history(
    kept: Sequence[MinuteStats],
    fresh: Sequence[MinuteStats],
    *,
    now: datetime,
    minutes: int = HISTORY_MINUTES,
) -> tuple[MinuteStats, ...]:
    """Minutes of `fresh` replace the same minutes of `kept`; minutes that started more than
    `minutes` before `now` are dropped. Oldest first."""
    by_minute = {m.minute: m for m in kept}
    by_minute.update((m.minute, m) for m in fresh)
    oldest = now - timedelta(minutes=minutes)
    return tuple(by_minute[k] for k in sorted(by_minute) if k > oldest)


def history_view(history: Sequence[MinuteStats]) -> list[dict[str, Any]]:
    return [
        {
            "minute": m.minute.isoformat(),
            "done": m.done,
            "failed": m.failed,
            "p50_ms": None if m.p50_ms is None else round(m.p50_ms, 1),
            "p95_ms": None if m.p95_ms is None else round(m.p95_ms, 1),
        }
        for m in history
    ]
