"""Core's HTTP shapes rebuilt from the gRPC messages by the one public Job (`proto/jobs.py`), so
the bridge's JSON and SSE frames read exactly like core's own."""

from __future__ import annotations

import json
from typing import Any

from proto import llm_pb2 as pb
from proto.jobs import event_json, from_pb


def job_view(job: pb.Job) -> dict[str, Any]:
    return from_pb(job)


def event_view(event: pb.JobEvent) -> dict[str, Any]:
    return event_json(
        id=event.id,
        job_id=event.job_id,
        type=event.type,
        data=json.loads(event.data_json) if event.data_json else None,
        created_at=event.created_at or None,
        job=from_pb(event.job) if event.HasField("job") else None,
    )
