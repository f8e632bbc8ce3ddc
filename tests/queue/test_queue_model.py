"""Model check of the queue: Hypothesis drives the real service and store against Postgres.

Rules: submit, claim (two workers), heartbeat, complete, fail (retryable or not, now or
later), cancel, and a controllable clock (a lease, a retry delay or a deadline runs out:
moved back in SQL, then the lease sweeper's run_once). A simple Python model predicts every
job's status and attempts; invariants: the database matches the model, a terminal job never
moves again, a fenced-off call (stale lease token) changes nothing, attempts never exceed
max_attempts, a running job has exactly one open attempt and no job finishes twice.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from core.db.pool import create_pool
from core.errors import JobFinished, LeaseLost
from core.events.hub import EventHub
from core.maintenance.lease_sweeper import LeaseSweeper
from core.queue.schemas import (
    ClaimRequest,
    CompleteRequest,
    FailRequest,
    HeartbeatRequest,
    JobCreate,
)
from core.queue.service import QueueConfig, QueueService
from core.queue.store import JobStore
from testkit.support import examples

TERMINAL = {"done", "error", "canceled"}
WORKERS = ("w1", "w2")
KIND = "echo"


@dataclass
class ModelJob:
    seq: int
    max_attempts: int
    has_deadline: bool
    status: str = "queued"
    attempts: int = 0
    cancel_requested: bool = False
    delayed: bool = False  # queued with run_after in the future
    holder: tuple[str, uuid.UUID] | None = None
    history: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Lease:
    job_id: uuid.UUID
    worker_id: str
    token: uuid.UUID


class Env:
    """One database and one event loop for the whole run; truncated between examples."""

    def __init__(self, dsn: str) -> None:
        self.runner = asyncio.Runner()
        self.pool: asyncpg.Pool = self.run(self._pool(dsn))
        store = JobStore(self.pool)
        self.store = store
        self.queue = QueueService(
            store, EventHub(lambda: asyncpg.connect(dsn), store), QueueConfig()
        )
        self.sweeper = LeaseSweeper(store)

    @staticmethod
    async def _pool(dsn: str) -> asyncpg.Pool:
        return await create_pool(dsn, min_size=1, max_size=2)

    def run(self, coro: Any) -> Any:
        return self.runner.run(coro)

    def close(self) -> None:
        self.run(self.pool.close())
        self.runner.close()


ENV: Env | None = None


class QueueModel(RuleBasedStateMachine):
    jobs = Bundle("jobs")
    leases = Bundle("leases")

    def __init__(self) -> None:
        super().__init__()
        assert ENV is not None
        self.env = ENV
        self.model: dict[uuid.UUID, ModelJob] = {}
        self.seq = 0

    @initialize(
        target=jobs,
        max_attempts=st.lists(st.integers(1, 3), min_size=1, max_size=3),
        has_deadline=st.booleans(),
    )
    def start(self, max_attempts: list[int], has_deadline: bool) -> Any:
        """An empty queue, then a few jobs so that the first steps can already claim."""
        self.env.run(self.env.pool.execute("TRUNCATE jobs, job_attempts, job_events CASCADE"))
        return multiple(*(self.submit(n, has_deadline) for n in max_attempts))

    # -- helpers -------------------------------------------------------------------

    def row(self, job_id: uuid.UUID) -> dict[str, Any]:
        return dict(self.env.run(self.env.pool.fetchrow("SELECT * FROM jobs WHERE id=$1", job_id)))

    def sql(self, query: str, *args: Any) -> Any:
        return self.env.run(self.env.pool.execute(query, *args))

    def is_current(self, lease: Lease) -> bool:
        job = self.model[lease.job_id]
        return job.status == "running" and job.holder == (lease.worker_id, lease.token)

    def set_status(self, job_id: uuid.UUID, status: str) -> None:
        job = self.model[job_id]
        assert job.status not in TERMINAL, f"model bug: {job_id} leaves {job.status}"
        job.status = status
        job.history.append(status)
        if status != "running":
            job.holder = None

    def expect_fenced(self, lease: Lease, call: Any) -> None:
        before = self.row(lease.job_id)
        with pytest.raises(LeaseLost):
            self.env.run(call)
        after = self.row(lease.job_id)
        assert after == before, "a fenced-off call changed the job"

    # -- rules -----------------------------------------------------------------------

    @precondition(lambda self: len(self.model) < 4)
    @rule(
        target=jobs,
        max_attempts=st.integers(1, 3),
        has_deadline=st.booleans(),
    )
    def submit(self, max_attempts: int, has_deadline: bool) -> uuid.UUID:
        deadline = datetime.now(UTC) + timedelta(hours=1) if has_deadline else None
        [result] = self.env.run(
            self.env.queue.submit(
                [JobCreate(kind=KIND, max_attempts=max_attempts, deadline_at=deadline)]
            )
        )
        self.seq += 1
        self.model[result.job.id] = ModelJob(self.seq, max_attempts, has_deadline)
        return result.job.id

    @rule(target=leases, worker=st.sampled_from(WORKERS), max_jobs=st.integers(1, 2))
    def claim(self, worker: str, max_jobs: int) -> Any:
        claimable = sorted(
            (j for j in self.model.items() if j[1].status == "queued" and not j[1].delayed),
            key=lambda item: item[1].seq,
        )
        expected = [job_id for job_id, _ in claimable[:max_jobs]]
        claimed = self.env.run(
            self.env.queue.claim(
                ClaimRequest(worker_id=worker, kinds=[KIND], lease_seconds=60, max_jobs=max_jobs)
            )
        )
        assert [j.id for j in claimed] == expected
        out = []
        for job in claimed:
            m = self.model[job.id]
            self.set_status(job.id, "running")
            m.attempts += 1
            m.holder = (worker, job.lease_token)
            assert job.attempts == m.attempts
            out.append(Lease(job.id, worker, job.lease_token))
        return multiple(*out)

    @rule(lease=leases)
    def heartbeat(self, lease: Lease) -> None:
        request = HeartbeatRequest(
            worker_id=lease.worker_id, job_id=str(lease.job_id), lease_token=str(lease.token)
        )
        if not self.is_current(lease):
            self.expect_fenced(lease, self.env.queue.heartbeat(request))
            return
        result = self.env.run(self.env.queue.heartbeat(request))
        job = self.model[lease.job_id]
        assert result.canceled == job.cancel_requested
        if job.cancel_requested:
            self.set_status(lease.job_id, "canceled")

    @rule(lease=leases)
    def complete(self, lease: Lease) -> None:
        request = CompleteRequest(
            worker_id=lease.worker_id,
            job_id=str(lease.job_id),
            lease_token=str(lease.token),
            result={"by": lease.worker_id},
        )
        if not self.is_current(lease):
            self.expect_fenced(lease, self.env.queue.complete(request))
            return
        status = self.env.run(self.env.queue.complete(request))
        expected = "canceled" if self.model[lease.job_id].cancel_requested else "done"
        assert status == expected
        self.set_status(lease.job_id, expected)

    @rule(lease=leases, retryable=st.booleans(), later=st.booleans())
    def fail(self, lease: Lease, retryable: bool, later: bool) -> None:
        request = FailRequest(
            worker_id=lease.worker_id,
            job_id=str(lease.job_id),
            lease_token=str(lease.token),
            error="boom",
            retryable=retryable,
            retry_after=30 if later else 0,
        )
        if not self.is_current(lease):
            self.expect_fenced(lease, self.env.queue.fail(request))
            return
        result = self.env.run(self.env.queue.fail(request))
        job = self.model[lease.job_id]
        if job.cancel_requested:
            expected = "canceled"
        elif retryable and job.attempts < job.max_attempts:
            expected = "queued"
        else:
            expected = "error"
        assert result.status == expected
        self.set_status(lease.job_id, expected)
        job.delayed = expected == "queued" and later

    @rule(job_id=jobs)
    def cancel(self, job_id: uuid.UUID) -> None:
        job = self.model[job_id]
        if job.status in ("done", "error"):
            with pytest.raises(JobFinished):
                self.env.run(self.env.queue.cancel(job_id))
            return
        answered = self.env.run(self.env.queue.cancel(job_id))
        if job.status == "queued":
            self.set_status(job_id, "canceled")
            job.cancel_requested = True
        elif job.status == "running":
            job.cancel_requested = True
        assert answered.status == job.status

    @rule(job_id=jobs)
    def lease_runs_out(self, job_id: uuid.UUID) -> None:
        self.sql(
            "UPDATE jobs SET lease_until = lease_until - interval '2 hours' "
            "WHERE id = $1 AND status = 'running'",
            job_id,
        )
        swept = self.env.run(self.env.sweeper.run_once())
        job = self.model[job_id]
        if job.status != "running":
            assert swept.requeued_or_failed == 0
            return
        assert swept.requeued_or_failed == 1
        if job.cancel_requested:
            self.set_status(job_id, "canceled")
        elif job.attempts >= job.max_attempts:
            self.set_status(job_id, "error")
        else:
            self.set_status(job_id, "queued")
            job.delayed = False

    @precondition(lambda self: any(j.delayed for j in self.model.values()))
    @rule()
    def retry_delays_pass(self) -> None:
        self.sql(
            "UPDATE jobs SET run_after = run_after - interval '2 hours' WHERE status = 'queued'"
        )
        for job in self.model.values():
            job.delayed = False

    @rule(job_id=jobs)
    def deadline_passes(self, job_id: uuid.UUID) -> None:
        job = self.model[job_id]
        self.sql(
            "UPDATE jobs SET deadline_at = now() - interval '1 second' "
            "WHERE id = $1 AND deadline_at IS NOT NULL",
            job_id,
        )
        swept = self.env.run(self.env.sweeper.run_once())
        if job.has_deadline and job.status in ("queued", "running"):
            assert swept.past_deadline == 1
            self.set_status(job_id, "error")
        else:
            assert swept.past_deadline == 0

    # -- invariants --------------------------------------------------------------------

    @invariant()
    def database_matches_model(self) -> None:
        if not self.model:
            return
        rows = self.env.run(
            self.env.pool.fetch(
                """
                SELECT j.id, j.status, j.attempts, j.max_attempts, j.lease_token, j.worker_id,
                       (SELECT count(*) FROM job_attempts a
                         WHERE a.job_id = j.id AND a.finished_at IS NULL) AS open_attempts,
                       (SELECT count(*) FROM job_attempts a
                         WHERE a.job_id = j.id AND a.outcome = 'done') AS done_attempts,
                       (SELECT count(*) FROM job_attempts a WHERE a.job_id = j.id) AS all_attempts,
                       (SELECT count(*) FROM job_events e
                         WHERE e.job_id = j.id
                           AND e.type IN ('done', 'error', 'canceled')) AS terminal_events
                  FROM jobs j
                """
            )
        )
        assert len(rows) == len(self.model)
        for r in rows:
            job = self.model[r["id"]]
            assert r["status"] == job.status, (r["id"], r["status"], job)
            assert r["attempts"] == job.attempts
            assert r["attempts"] <= r["max_attempts"]
            assert r["all_attempts"] == job.attempts
            assert r["done_attempts"] <= 1
            assert r["terminal_events"] == (1 if job.status in TERMINAL else 0)
            if job.status == "running":
                assert r["open_attempts"] == 1
                assert (r["worker_id"], r["lease_token"]) == job.holder
            else:
                assert r["open_attempts"] == 0
            terminal = [s for s in job.history if s in TERMINAL]
            assert len(terminal) <= 1 and (not terminal or job.history[-1] == terminal[0])


@pytest.fixture
def model_env(pg_cluster_admin: str) -> Any:
    global ENV
    name = f"model_{uuid.uuid4().hex[:12]}"
    base = pg_cluster_admin.rpartition("/")[0]

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(pg_cluster_admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}" TEMPLATE "llm_mcp_test_template"'))
    ENV = Env(f"{base}/{name}")
    try:
        yield ENV
    finally:
        ENV.close()
        ENV = None
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.mark.slow
def test_queue_matches_its_model(model_env: Env) -> None:
    run_state_machine_as_test(
        QueueModel,
        settings=settings(
            max_examples=examples(50),  # TEST_DEPTH=10 for a deep run
            stateful_step_count=50,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            database=None,
        ),
    )


async def test_cancel_of_a_job_that_ran_past_its_deadline_says_it_finished(
    http: Any, core: Any, db: asyncpg.Connection
) -> None:
    """Found by the model: a cancel-requested job ended by its deadline answered a second
    cancel with 200 as if it were still being canceled; it finished (error), so 409."""
    deadline = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    job = (await http.post("/v1/jobs", json={"kind": "echo", "deadline_at": deadline})).json()
    claim = {"worker_id": "w1", "kinds": ["echo"], "lease_seconds": 60}
    assert (await http.post("/v1/workers/claim", json=claim)).status_code == 200
    assert (await http.post(f"/v1/jobs/{job['job_id']}/cancel")).status_code == 200
    await db.execute("UPDATE jobs SET deadline_at = now() - interval '1 second'")
    await core.runtime.sweeper.run_once()
    again = await http.post(f"/v1/jobs/{job['job_id']}/cancel")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "job_finished"
    assert (await http.get(f"/v1/jobs/{job['job_id']}")).json()["status"] == "error"
