"""Pure pieces of the queue: SQL loading, retry delays, cursors, config errors."""

from __future__ import annotations

import random
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.db.queries import load_queries
from core.errors import InvalidInput
from core.queue.backoff import retry_delay
from core.queue.service import decode_cursor, encode_cursor
from worker.handlers.registry import default_handlers, select_handlers


def test_named_queries_are_loaded_and_duplicates_refused(tmp_path: Path) -> None:
    sql = tmp_path / "q.sql"
    sql.write_text("-- preamble\n-- name: a_get\nSELECT 1;\n\n-- name: b_list\n-- doc\nSELECT 2;\n")
    assert load_queries(sql) == {"a_get": "SELECT 1;", "b_list": "-- doc\nSELECT 2;"}
    sql.write_text("-- name: a_get\nSELECT 1;\n-- name: a_get\nSELECT 2;\n")
    with pytest.raises(ValueError, match="defined twice"):
        load_queries(sql)


def test_every_query_file_of_the_queue_loads() -> None:
    queries = load_queries(Path("core/queue/jobs.sql"))
    assert {"job_claim", "job_complete_many", "job_fail", "job_requeue_expired_leases"} <= set(
        queries
    )


def test_retry_delay_doubles_with_jitter_and_is_capped() -> None:
    rng = random.Random(7)
    for attempt, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (10, 60.0)]:
        delays = [
            retry_delay(attempt, base_seconds=2.0, cap_seconds=60.0, rng=rng) for _ in range(200)
        ]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 10  # jittered, not constant
    with pytest.raises(ValueError):
        retry_delay(0)


def test_cursor_round_trips_and_garbage_is_refused() -> None:
    from core.queue.models import Job

    job_id = uuid.uuid4()
    at = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    job = Job(
        **{f: None for f in Job.__dataclass_fields__}
        | {"id": job_id, "queued_at": at, "payload": {}, "cancel_requested": False}
    )
    assert decode_cursor(encode_cursor(job)) == (at, job_id)
    with pytest.raises(InvalidInput):
        decode_cursor("not-a-cursor")


def test_worker_kinds_narrow_and_unknown_kinds_are_named() -> None:
    available = default_handlers()
    assert select_handlers(available, []) == available
    assert list(select_handlers(available, ["echo"])) == ["echo"]
    with pytest.raises(ValueError, match="cannot run: nope"):
        select_handlers(default_handlers(), ["nope"])


@pytest.mark.slow
def test_bad_config_names_the_variable() -> None:
    env = {"PATH": "/usr/bin:/bin", "HTTP_PORT": "not-a-port"}
    result = subprocess.run(
        [sys.executable, "-m", "llm_mcp", "core"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr and "HTTP_PORT" in result.stderr


def test_empty_variables_from_an_env_file_mean_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from worker.settings import WorkerSettings

    for name in ("WORKER_ID", "WORKER_KINDS", "WORKER_TOKEN", "API_TOKEN"):
        monkeypatch.setenv(name, "")
    settings = WorkerSettings()
    assert settings.worker_id == socket.gethostname()
    assert settings.worker_kinds == [] and settings.token is None
