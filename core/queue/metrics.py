"""Prometheus counters of the queue, served by GET /metrics."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter

from proto.contract import BUILTIN_KINDS

# Other kinds than the built-in ones become labels once a worker offers them.
# A worker token could still offer made-up kinds: the labels stay bounded.
MAX_OFFERED_KINDS = 200
OTHER = "other"


class KindLabels:
    """The `kind` label of a job: the kind when a worker runs it, else `other`. Kinds are
    client-chosen, and every label value is a time series that never expires."""

    def __init__(self) -> None:
        self._offered: set[str] = set()

    def offer(self, kinds: Iterable[str]) -> None:
        """Kinds a worker registered or claims with."""
        for kind in kinds:
            if len(self._offered) >= MAX_OFFERED_KINDS:
                return
            self._offered.add(kind)

    def label(self, kind: str) -> str:
        return kind if kind in BUILTIN_KINDS or kind in self._offered else OTHER


JOBS_SUBMITTED = Counter(
    "llm_mcp_jobs_submitted_total", "Jobs enqueued (idempotent repeats not counted).", ["kind"]
)
JOBS_CLAIMED = Counter("llm_mcp_jobs_claimed_total", "Jobs handed to workers.", ["kind"])
JOBS_FINISHED = Counter(
    "llm_mcp_job_outcomes_total",
    "Worker reports by outcome: done, canceled, error, retry (back to queued).",
    ["outcome"],
)
LEASES_LOST = Counter(
    "llm_mcp_lease_refusals_total", "Heartbeats/completions/failures refused: lease not held."
)
