-- Circuit breakers (db/init/008_compat.sql) and cloud fallbacks of routed jobs.

-- name: breaker_record_failure
-- One more failure of target $1: opens it for $3 s at $2 consecutive failures; a failure while
-- open or half-open (a failed probe) opens it again.
INSERT INTO breakers AS b (target, failures, open_until, opened_at, last_error, updated_at)
VALUES ($1, 1,
        CASE WHEN $2 <= 1 THEN now() + make_interval(secs => $3) END,
        CASE WHEN $2 <= 1 THEN now() END, $4, now())
ON CONFLICT (target) DO UPDATE
   SET failures = b.failures + 1,
       open_until = CASE WHEN b.open_until IS NOT NULL OR b.failures + 1 >= $2
                         THEN now() + make_interval(secs => $3) END,
       opened_at = CASE WHEN b.open_until IS NULL AND b.failures + 1 >= $2 THEN now()
                        ELSE b.opened_at END,
       last_error = $4,
       updated_at = now()
RETURNING *;

-- name: breaker_record_success
-- Closes the breakers $1 (only rows that are not already closed and clean are written).
UPDATE breakers
   SET failures = 0, open_until = NULL, opened_at = NULL, last_error = NULL, updated_at = now()
 WHERE target = ANY($1::text[]) AND (failures > 0 OR open_until IS NOT NULL);

-- name: breaker_list
SELECT * FROM breakers ORDER BY target;

-- name: job_failover_device
-- Queued job $1 failed on device $2: drop the device from its candidates when others remain,
-- run it again now, and say so in a retry event. Returns the remaining candidates.
WITH moved AS (
    UPDATE jobs
       SET device_candidates = device_candidates - $2::text,
           run_after = now(),
           updated_at = now()
     WHERE id = $1 AND status = 'queued'
       AND jsonb_typeof(device_candidates) = 'array'
       AND jsonb_array_length(device_candidates - $2::text) > 0
    RETURNING id, device_candidates
), event AS (
    INSERT INTO job_events (job_id, type, data)
    SELECT id, 'retry', jsonb_build_object(
               'status', 'queued', 'failover', 'device', 'from_device', $2::text,
               'candidates', device_candidates, 'reason', $3::text)
      FROM moved
)
SELECT device_candidates FROM moved;

-- name: job_failover_cloud
-- Queued job $1 becomes the cloud job of its fallback (if it has one), runnable now.
WITH fb AS (
    DELETE FROM job_fallbacks WHERE job_id = $1 RETURNING *
), moved AS (
    UPDATE jobs j
       SET kind = fb.kind, provider = fb.provider, model = fb.model, payload = fb.payload,
           device_id = NULL, device_candidates = NULL, run_after = now(), updated_at = now()
      FROM fb
     WHERE j.id = fb.job_id AND j.status = 'queued'
    RETURNING j.id, j.kind, j.provider, j.model
), event AS (
    INSERT INTO job_events (job_id, type, data)
    SELECT id, 'retry', jsonb_build_object(
               'status', 'queued', 'failover', 'cloud', 'from_device', $2::text,
               'provider', provider, 'model', model, 'reason', $3::text)
      FROM moved
)
SELECT kind FROM moved;
