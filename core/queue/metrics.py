"""Prometheus counters of the queue, served by GET /metrics."""

from __future__ import annotations

from prometheus_client import Counter

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
