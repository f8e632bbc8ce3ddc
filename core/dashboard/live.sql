-- Queries of the live dashboard page (/ui/): the queue broken down, its last hour, one job's
-- attempts and cost. Read-only.

-- name: job_count_by_status_kind_provider
-- Queued and running jobs now, and jobs that failed in the last $1 seconds, per kind and provider.
SELECT status, kind, coalesce(provider, '') AS provider, count(*)::int AS n
  FROM jobs
 WHERE status IN ('queued', 'running')
 GROUP BY status, kind, provider
UNION ALL
SELECT status, kind, coalesce(provider, '') AS provider, count(*)::int AS n
  FROM jobs
 WHERE status = 'error' AND finished_at > now() - make_interval(secs => $1)
 GROUP BY status, kind, provider
 ORDER BY status, kind, provider;

-- name: job_history_by_minute
-- Jobs that ended in the last $1 seconds, per minute: how many did or failed, and their
-- time from queued to finished (p50, p95, ms). A range scan of jobs_finished_idx.
SELECT date_trunc('minute', finished_at) AS minute,
       count(*) FILTER (WHERE status = 'done')::int AS done,
       count(*) FILTER (WHERE status = 'error')::int AS failed,
       (percentile_cont(0.5) WITHIN GROUP (
            ORDER BY extract(epoch FROM finished_at - queued_at)) * 1000)::float8 AS p50_ms,
       (percentile_cont(0.95) WITHIN GROUP (
            ORDER BY extract(epoch FROM finished_at - queued_at)) * 1000)::float8 AS p95_ms
  FROM jobs
 WHERE status IN ('done', 'error', 'canceled')
   AND finished_at > now() - make_interval(secs => $1)
 GROUP BY 1
 ORDER BY 1;

-- name: job_attempt_list
-- A job's attempts in order (at most $2): who ran it, when, how it ended.
SELECT attempt, worker_id, started_at, finished_at, outcome, error
  FROM job_attempts
 WHERE job_id = $1
 ORDER BY attempt, id
 LIMIT $2;

-- name: job_cost_get
-- What a finished job cost (no row: not finished, or not costed).
SELECT provider, model, tokens_in, tokens_out, cost_usd, priced, finished_at
  FROM job_costs
 WHERE job_id = $1;
