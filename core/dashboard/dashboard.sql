-- Queries of the status snapshot (GET /v1/dashboard, gRPC GetStatus). Read-only.

-- name: snapshot_clock
SELECT now() AS now;

-- name: job_count_active
-- Exact counts of queued and running jobs (each an index-only scan of a partial index).
SELECT (SELECT count(*) FROM jobs WHERE status = 'queued') AS queued,
       (SELECT count(*) FROM jobs WHERE status = 'running') AS running;

-- name: job_count_finished_since
-- Jobs that ended in the last $1 seconds, per terminal status (throughput).
SELECT status, count(*) AS n
  FROM jobs
 WHERE status IN ('done', 'error', 'canceled')
   AND finished_at > now() - make_interval(secs => $1)
 GROUP BY status;

-- name: job_get_oldest_queued_age
-- Seconds the oldest queued job has waited (NULL when nothing is queued).
SELECT extract(epoch FROM now() - min(queued_at))::float8 AS age
  FROM jobs
 WHERE status = 'queued';

-- name: job_list_running
-- Running jobs, longest running first, at most $1.
SELECT id, kind, device_id, worker_id, model, provider,
       extract(epoch FROM now() - coalesce(started_at, updated_at))::float8 AS running_seconds
  FROM jobs
 WHERE status = 'running'
 ORDER BY started_at NULLS LAST, id
 LIMIT $1;

-- name: job_count_running_by_device
SELECT device_id, count(*) AS n
  FROM jobs
 WHERE status = 'running' AND device_id IS NOT NULL
 GROUP BY device_id;

-- name: job_list_recent_outcomes
-- The newest $1 jobs that ended done or error, newest first (fail streaks per kind);
-- a backward scan of the finished-jobs index, so its cost does not grow with the table.
SELECT kind, status, error
  FROM jobs
 WHERE status IN ('done', 'error')
 ORDER BY finished_at DESC, id DESC
 LIMIT $1;

-- name: device_list_for_snapshot
SELECT id, name, host_name, online, last_seen_at, offline_reason, offline_at,
       ollama_latency_ms
  FROM devices
 ORDER BY online DESC, id
 LIMIT $1;

-- name: benchmark_list_latest_per_device_model
-- The newest benchmark of each (device, model) among the newest $2 benchmarks (a bounded
-- scan of benchmarks_created_idx), newest first, at most $1.
SELECT *
  FROM (SELECT DISTINCT ON (device_id, model)
               device_id, model, provider, task_type, tps, latency_ms, ok, error, created_at
          FROM (SELECT * FROM benchmarks ORDER BY created_at DESC LIMIT $2) recent
         ORDER BY device_id, model, created_at DESC, id DESC) latest
 ORDER BY created_at DESC
 LIMIT $1;

-- name: worker_list_live
-- Workers seen in the last $1 seconds, with how many jobs each is running.
SELECT w.id, w.name, w.host, w.kinds,
       extract(epoch FROM now() - w.last_seen_at)::float8 AS last_seen_seconds,
       (SELECT count(*) FROM jobs j WHERE j.status = 'running' AND j.worker_id = w.id) AS running
  FROM workers w
 WHERE w.last_seen_at > now() - make_interval(secs => $1)
 ORDER BY w.id
 LIMIT $2;
