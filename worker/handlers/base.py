"""What a handler receives and how it reports failure."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class JobContext:
    job_id: str
    kind: str
    payload: dict[str, Any]
    attempt: int
    worker_id: str
    device_id: str = ""
    provider: str = ""
    model: str = ""


@dataclass
class Outcome:
    """A handler's answer: the job's result and the metrics to store beside it."""

    result: Any
    metrics: dict[str, Any] = field(default_factory=dict)


class JobFailed(Exception):
    """A handler's failure. retryable=False for errors a retry cannot fix (bad request)."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


Handler = Callable[[JobContext], Awaitable[Outcome]]
