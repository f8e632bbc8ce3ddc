"""The public Job (`proto/jobs.py`) reads the same on core's HTTP, over gRPC and on the bridge."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from core.grpc.convert import event_to_pb, job_to_pb
from core.http.views import event_view, job_view
from core.queue.models import Job, JobEvent
from mcp_bridge import views as bridge
from proto import llm_pb2 as pb
from proto.jobs import JobView, LeasedJob

AT = datetime(2026, 1, 2, 3, 4, 5, 600_000, tzinfo=UTC)
# The shape clients have always read: every field, in this order, nulls included.
FIELDS = [
    "id",
    "kind",
    "status",
    "payload",
    "result",
    "error",
    "priority",
    "source",
    "attempts",
    "max_attempts",
    "worker_id",
    "provider",
    "model",
    "device_id",
    "metrics",
    "idempotency_key",
    "cancel_requested",
    "queued_at",
    "run_after",
    "started_at",
    "finished_at",
    "updated_at",
    "deadline_at",
    "lease_until",
]


def _job(**changes: object) -> Job:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "kind": "ollama.generate",
        "payload": {"model": "m", "prompt": "héllo"},
        "priority": 2,
        "source": None,
        "status": "queued",
        "attempts": 0,
        "max_attempts": 3,
        "lease_until": None,
        "lease_token": None,
        "deadline_at": None,
        "run_after": AT,
        "worker_id": None,
        "result": None,
        "metrics": None,
        "error": None,
        "idempotency_key": None,
        "provider": None,
        "model": None,
        "device_id": None,
        "cancel_requested": False,
        "queued_at": AT,
        "started_at": None,
        "finished_at": None,
        "updated_at": AT,
    }
    fields.update(changes)
    return Job(**fields)  # type: ignore[arg-type]


def test_a_queued_job_reads_alike_on_http_and_on_the_bridge() -> None:
    job = _job()
    view = job_view(job)
    assert list(view) == FIELDS
    assert view["id"] == str(job.id) and view["queued_at"] == AT.isoformat()
    assert view["result"] is None and view["started_at"] is None and view["source"] is None
    assert bridge.job_view(job_to_pb(job)) == view


def test_a_finished_job_reads_alike_on_http_and_on_the_bridge() -> None:
    job = _job(
        status="done",
        attempts=1,
        worker_id="w1",
        source="bot",
        result={"data": {"response": "hi"}, "response": "hi", "thinking": None},
        metrics={"tokens_in": 3, "tps": 1.5},
        provider="ollama",
        model="m",
        device_id="d1",
        idempotency_key="k",
        started_at=AT,
        finished_at=AT + timedelta(seconds=1),
        deadline_at=AT + timedelta(hours=1),
    )
    view = job_view(job)
    assert JobView.model_validate(view).model_dump(mode="json") == view  # the documented shape
    assert bridge.job_view(job_to_pb(job)) == view
    event = JobEvent(id=9, job_id=job.id, type="done", data={"a": 1}, created_at=AT)
    assert bridge.event_view(event_to_pb(event, job)) == event_view(event, job)
    assert event_view(event, job)["job"] == view
    assert "job" not in event_view(event)


def test_only_a_claim_carries_the_lease_token() -> None:
    token = uuid.uuid4()
    job = _job(status="running", lease_token=token, lease_until=AT, worker_id="w1")
    assert "lease_token" not in job_view(job)
    assert job_to_pb(job).lease_token == ""
    leased = job_view(job, with_lease=True)
    assert list(leased) == [*FIELDS, "lease_token"] and leased["lease_token"] == str(token)
    assert LeasedJob.model_validate(leased).model_dump(mode="json") == leased
    assert job_to_pb(job, with_lease=True).lease_token == str(token)


def test_the_grpc_job_message_has_exactly_the_views_fields() -> None:
    documents = ("payload", "result", "metrics")  # JSON text on the wire: <name>_json
    wire = {f"{n}_json" if n in documents else n for n in LeasedJob.model_fields}
    assert set(pb.Job.DESCRIPTOR.fields_by_name) == wire
