"""`llm-mcp jobs`: GET /v1/jobs as a table (a pure function over the API's JSON)."""

from __future__ import annotations

from typing import Any

from llm_mcp.text_table import render_table

_COLUMNS = ("JOB", "STATUS", "KIND", "MODEL", "TRIES", "QUEUED", "ERROR")


def job_row(job: dict[str, Any]) -> tuple[str, ...]:
    where = job.get("model") or "-"
    if job.get("device_id"):
        where += f" @ {job['device_id']}"
    queued = (job.get("queued_at") or "-").replace("T", " ")[:19]
    tries = f"{job.get('attempts', 0)}/{job.get('max_attempts', '?')}"
    return (job["id"], job["status"], job["kind"], where, tries, queued, job.get("error") or "")


def render_jobs(page: dict[str, Any]) -> str:
    """Newest first, one line per job (long errors cut; `--json` has them whole)."""
    jobs = page.get("jobs") or []
    if not jobs:
        return "no jobs"
    lines = render_table(_COLUMNS, [job_row(j) for j in jobs], max_width=60)
    if page.get("next_cursor"):
        lines.append("(more: raise --limit)")
    return "\n".join(lines)
