"""The snapshot's JSON, one shape for GET /v1/dashboard and gRPC StatusSnapshot.snapshot_json."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.dashboard.models import StatusSnapshot
from core.dashboard.store import FINISHED_WINDOW_SECONDS, THROUGHPUT_WINDOW_SECONDS

JOB_STATUSES = ("queued", "running", "done", "error", "canceled")


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def snapshot_view(snap: StatusSnapshot) -> dict[str, Any]:
    finished = snap.finished_last_minute
    return {
        "generated_at": _ts(snap.generated_at),
        # queued/running: now; done/error/canceled: finished within finished_window_seconds.
        "jobs": {s: snap.jobs_by_status.get(s, 0) for s in JOB_STATUSES},
        "finished_window_seconds": FINISHED_WINDOW_SECONDS,
        "throughput": {
            "window_seconds": THROUGHPUT_WINDOW_SECONDS,
            "finished": sum(finished.values()),
            **{s: finished.get(s, 0) for s in ("done", "error", "canceled")},
        },
        "oldest_queued_seconds": snap.oldest_queued_seconds,
        "running": [
            {
                "id": j.id,
                "kind": j.kind,
                "device_id": j.device_id,
                "worker_id": j.worker_id,
                "model": j.model,
                "provider": j.provider,
                "running_seconds": round(j.running_seconds, 3),
            }
            for j in snap.running_jobs
        ],
        "devices": [
            {
                "id": d.id,
                "name": d.name,
                "online": d.online,
                "running": d.running,
                "limit": d.limit,
                "last_seen_at": _ts(d.last_seen_at),
                "offline_reason": d.offline_reason,
                "offline_at": _ts(d.offline_at),
                "ollama_latency_ms": d.ollama_latency_ms,
            }
            for d in snap.devices
        ],
        "benchmarks": [
            {
                "device_id": b.device_id,
                "model": b.model,
                "provider": b.provider,
                "task_type": b.task_type,
                "tps": b.tps,
                "latency_ms": b.latency_ms,
                "ok": b.ok,
                "error": b.error,
                "created_at": _ts(b.created_at),
            }
            for b in snap.benchmarks
        ],
        "workers": [
            {
                "id": w.id,
                "name": w.name,
                "host": w.host,
                "kinds": list(w.kinds),
                "last_seen_seconds": round(w.last_seen_seconds, 3),
                "running": w.running,
            }
            for w in snap.workers
        ],
        "recent_outcomes": {
            o.kind: {"statuses": list(o.statuses), "last_error": o.last_error}
            for o in snap.recent_outcomes
        },
        "device_max_concurrency": snap.device_max_concurrency,
    }
