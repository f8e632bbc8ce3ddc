"""Queue counts per status: from core's status snapshot when core has it, else by listing jobs."""

from __future__ import annotations

from typing import Any

from mcp_bridge.models import QueueStats
from proto.client import CoreClient, NotImplementedByCore

STATUSES = ("queued", "running", "done", "error", "canceled")
# Listing stops here per status (finished jobs can be many until retention removes them).
COUNT_LIMIT = 5000
PAGE = 500


def counts_from_snapshot(snapshot: Any) -> dict[str, int] | None:
    """Per-status counts from a GetStatus snapshot, if it holds them under a known key."""
    if not isinstance(snapshot, dict):
        return None
    for key in ("queue", "jobs", "counts", "queue_by_status"):
        section = snapshot.get(key)
        if isinstance(section, dict) and isinstance(section.get("by_status"), dict):
            section = section["by_status"]
        if isinstance(section, dict) and any(s in section for s in STATUSES):
            return {s: int(section.get(s) or 0) for s in STATUSES}
    return None


async def count_jobs_by_status(core: CoreClient) -> QueueStats:
    """Raises CoreClientError when core cannot answer either way."""
    try:
        counts = counts_from_snapshot(await core.get_status())
    except NotImplementedByCore:
        counts = None
    if counts is not None:
        return QueueStats(counts=counts, total=sum(counts.values()))
    counts = {}
    capped = False
    for status in STATUSES:
        counted, cursor = 0, ""
        while True:
            page = await core.list_jobs(status=status, limit=PAGE, cursor=cursor)
            counted += len(page.jobs)
            cursor = page.next_cursor
            if not cursor or not page.jobs:
                break
            if counted >= COUNT_LIMIT:
                capped = True
                break
        counts[status] = counted
    return QueueStats(counts=counts, total=sum(counts.values()), capped=capped)
