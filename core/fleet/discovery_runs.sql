-- Discovery rounds: the cross-replica lock and the record of each round.

-- name: discovery_lock
-- Session lock held for a whole round; waits for a round another replica is running.
SELECT pg_advisory_lock($1);

-- name: discovery_try_lock
SELECT pg_try_advisory_lock($1);

-- name: discovery_unlock
SELECT pg_advisory_unlock($1);

-- name: discovery_run_start
-- clock_timestamp(), not now(): rounds are compared across replicas by these times.
INSERT INTO discovery_runs (started_at) VALUES (clock_timestamp()) RETURNING id;

-- name: discovery_run_finish
UPDATE discovery_runs SET finished_at = clock_timestamp(), summary = $2 WHERE id = $1
RETURNING started_at, finished_at;

-- name: discovery_run_last
SELECT id, started_at, finished_at, summary
  FROM discovery_runs
 WHERE finished_at IS NOT NULL
 ORDER BY finished_at DESC
 LIMIT 1;

-- name: discovery_run_seconds_since_last
SELECT extract(epoch FROM clock_timestamp() - max(finished_at))::float8
  FROM discovery_runs
 WHERE finished_at IS NOT NULL;
