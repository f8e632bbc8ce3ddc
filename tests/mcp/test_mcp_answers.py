"""Pure pieces of the bridge: answer extraction, token counts, snapshot counts, views."""

from __future__ import annotations

from mcp_bridge.answers import answer_text, token_counts
from mcp_bridge.following import FollowOutcome, describe_event
from mcp_bridge.stats import counts_from_snapshot
from mcp_bridge.tools import llm_answer
from mcp_bridge.views import event_view, job_view
from proto import llm_pb2 as pb


def test_answer_text_from_each_provider_shape() -> None:
    openai = {"choices": [{"message": {"role": "assistant", "content": "hi"}}]}
    assert answer_text(openai) == "hi"
    assert answer_text({"data": openai}) == "hi"
    assert answer_text({"data": {"response": "from ollama generate", "done": True}}) == (
        "from ollama generate"
    )
    assert answer_text({"message": {"role": "assistant", "content": "ollama chat"}}) == (
        "ollama chat"
    )
    assert answer_text({"choices": [{"text": "completion"}]}) == "completion"
    assert answer_text({"text": "plain"}) == "plain"
    assert answer_text("bare string") == "bare string"
    assert answer_text({"embedding": [0.1, 0.2]}) is None
    assert answer_text(None) is None


def test_token_counts_prefer_metrics_then_provider_fields() -> None:
    assert token_counts(None, {"tokens_in": 3, "tokens_out": 9}) == (3, 9)
    usage = {"usage": {"prompt_tokens": 5, "completion_tokens": 2}}
    assert token_counts(usage) == (5, 2)
    assert token_counts({"data": {"prompt_eval_count": 11, "eval_count": 40}}) == (11, 40)
    assert token_counts({"text": "x"}) == (None, None)
    assert token_counts({"tokens_in": True}) == (None, None)


def test_counts_from_snapshot_shapes() -> None:
    assert counts_from_snapshot({"queue": {"queued": 2, "running": 1}}) == {
        "queued": 2,
        "running": 1,
        "done": 0,
        "error": 0,
        "canceled": 0,
    }
    assert counts_from_snapshot({"jobs": {"by_status": {"done": 4}}})["done"] == 4
    assert counts_from_snapshot({"devices": []}) is None
    assert counts_from_snapshot([]) is None


def test_views_match_core_shapes_for_empty_fields() -> None:
    job = pb.Job(id="j1", kind="echo", status="queued", payload_json='{"a":1}', max_attempts=3)
    view = job_view(job)
    assert view["payload"] == {"a": 1}
    assert view["result"] is None and view["error"] is None and view["source"] is None
    assert view["started_at"] is None and view["cancel_requested"] is False
    event = pb.JobEvent(id=7, job_id="j1", type="queued", created_at="2026-01-01T00:00:00+00:00")
    assert event_view(event) == {
        "id": 7,
        "job_id": "j1",
        "type": "queued",
        "data": None,
        "created_at": "2026-01-01T00:00:00+00:00",
    }
    final = pb.JobEvent(id=9, job_id="j1", type="done", job=pb.Job(id="j1", status="done"))
    assert event_view(final)["job"]["status"] == "done"


def test_progress_messages() -> None:
    chunk = pb.JobEvent(type="progress", data_json='{"type": "token", "delta": "Hel"}')
    assert describe_event(chunk) == "progress: Hel"
    thought = pb.JobEvent(type="progress", data_json='{"type": "token", "thinking": "Hm"}')
    assert describe_event(thought) == "progress: Hm"
    custom = pb.JobEvent(type="progress", data_json='{"step": 2, "of": 5}')
    assert describe_event(custom) == 'progress: {"step":2,"of":5}'
    retry = pb.JobEvent(type="retry", data_json='{"error": "timeout"}')
    assert describe_event(retry) == "retry: timeout"
    done = pb.JobEvent(type="done", job=pb.Job(id="j", status="done"))
    assert describe_event(done) == "done: job is done"
    assert describe_event(pb.JobEvent(type="running")) == "running"


def test_llm_answer_from_a_finished_job_and_its_routing() -> None:
    job = pb.Job(
        id="j1",
        kind="ollama.generate",
        status="done",
        device_id="box.ts.net.",
        result_json='{"data": {"response": "pong", "prompt_eval_count": 4, "eval_count": 2}}',
    )
    routing = {
        "job_id": "j1",
        "provider": "ollama",
        "kind": "ollama.generate",
        "model": "llama3:8b",
        "device_id": None,
        "reason": ["prefer_local"],
    }
    answer = llm_answer(FollowOutcome(job=job, finished=True, events_seen=3), routing)
    assert answer.answer == "pong" and answer.finished and answer.status == "done"
    assert (answer.provider, answer.model, answer.device_id) == (
        "ollama",
        "llama3:8b",
        "box.ts.net.",
    )
    assert (answer.tokens_in, answer.tokens_out) == (4, 2)
    failed = pb.Job(id="j1", status="error", error="ollama unreachable", result_json="")
    answer = llm_answer(FollowOutcome(job=failed, finished=True, events_seen=4), routing)
    assert answer.answer is None and answer.error == "ollama unreachable"
