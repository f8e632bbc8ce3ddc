"""Named SQL: each store's .sql file loads into named queries, a name defined twice is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.db.queries import load_queries


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
