"""What a handler receives and how it reports failure."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from worker.progress import ProgressBatcher


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
    # Where a streaming handler puts chunks (progress events); None: do not stream.
    progress: ProgressBatcher | None = None

    @property
    def wants_stream(self) -> bool:
        return self.progress is not None and self.payload.get("stream") is True


@dataclass
class Outcome:
    """A handler's answer: the job's result and the metrics to store beside it."""

    result: Any
    metrics: dict[str, Any] = field(default_factory=dict)
    # A benchmark run's figures, sent to core with ReportBenchmark.
    benchmark: dict[str, Any] | None = None


class JobFailed(Exception):
    """A handler's failure. retryable=False for errors a retry cannot fix (bad request).

    retry_after: seconds the provider asked us to wait (HTTP 429 Retry-After).
    device_unreachable: the device could not be connected to (core marks it offline).
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = True,
        retry_after: float | None = None,
        device_unreachable: bool = False,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.device_unreachable = device_unreachable


Handler = Callable[[JobContext], Awaitable[Outcome]]
