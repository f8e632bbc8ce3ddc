-- Queries of the job queue (tables jobs, job_attempts, job_events).
-- Every statement that moves a job writes its event in the same statement;
-- the job_events trigger sends the one NOTIFY of the transaction.

-- name: job_insert_many
-- Inserts jobs (parallel arrays); idempotency-key duplicates are skipped, not returned.
-- A job's cloud fallback ($14..$17, NULL for none) is written by the same statement.
WITH input AS (
    SELECT *
      FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::int[], $5::text[], $6::int[],
                  $7::timestamptz[], $8::text[], $9::timestamptz[], $10::text[], $11::text[],
                  $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::jsonb[])
        AS t(id, kind, payload, priority, source, max_attempts, deadline_at, idempotency_key,
             run_after, provider, model, device_id, device_candidates, fallback_kind,
             fallback_provider, fallback_model, fallback_payload)
), inserted AS (
    INSERT INTO jobs (id, kind, payload, priority, source, max_attempts, deadline_at,
                      idempotency_key, run_after, provider, model, device_id, device_candidates)
    SELECT id, kind, payload, priority, source, max_attempts, deadline_at, idempotency_key,
           coalesce(run_after, now()), provider, model, device_id, device_candidates::jsonb
      FROM input
    ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING *
), events AS (
    INSERT INTO job_events (job_id, type, data)
    SELECT id, 'queued', jsonb_build_object('status', 'queued', 'kind', kind, 'priority', priority)
      FROM inserted
    RETURNING id, job_id, type, data, created_at
), fallbacks AS (
    INSERT INTO job_fallbacks (job_id, kind, provider, model, payload)
    SELECT i.id, i.fallback_kind, i.fallback_provider, i.fallback_model, i.fallback_payload
      FROM input i JOIN inserted j ON j.id = i.id
     WHERE i.fallback_kind IS NOT NULL
)
-- Each job with its event (see JobEvent.of_job_row).
SELECT i.*, e.id AS event_id, e.type AS event_type, e.data AS event_data,
       e.created_at AS event_created_at
  FROM inserted i JOIN events e ON e.job_id = i.id;

-- name: job_get
SELECT * FROM jobs WHERE id = $1;

-- name: job_get_by_idempotency_keys
SELECT * FROM jobs WHERE idempotency_key = ANY($1::text[]);

-- name: job_list
-- Newest first; keyset pagination on (queued_at, id); filters are optional.
SELECT *
  FROM jobs
 WHERE ($1::text IS NULL OR status = $1)
   AND ($2::text IS NULL OR kind = $2)
   AND ($3::text IS NULL OR source = $3)
   AND ($4::timestamptz IS NULL OR (queued_at, id) < ($4, $5::uuid))
 ORDER BY queued_at DESC, id DESC
 LIMIT $6;

-- name: job_claim
-- Claims jobs for worker $4, leased for $3 seconds, one of two ways:
-- * From the queue ($7 NULL): up to $2 claimable jobs of kinds $1; of the device-bound kinds
--   $5 only those bound to no device (binding takes the device claim's lock,
--   core/routing/claim.sql). When the batch is not full (and it found nothing, or $6), the
--   same statement probes what is left: seconds until the next queued job of kinds $1 becomes
--   claimable (NULL when none is queued), and whether jobs of kinds $5 that wait for a device
--   are claimable now (only the device claim, under its lock, takes those).
-- * The jobs $7 that the device claim chose under its lock, binding each to device $8 (NULL:
--   keep) and merging $9 (ollama_addr, ollama_host, num_ctx_limit) into its payload; no probe.
-- One row per claimed job, each with the probe; a claim that took nothing returns one row of
-- the probe alone (its job columns NULL).
-- Committed without waiting for the WAL flush: a claim a crash loses leaves its job queued,
-- as an expired lease would, and the worker's report is refused for want of the lease.
WITH async_commit AS (
    SELECT set_config('synchronous_commit', 'off', true)
), scanned AS (
    SELECT id
      FROM jobs
     WHERE $7::uuid[] IS NULL
       AND status = 'queued'
       AND kind = ANY($1::text[])
       AND run_after <= now()
       AND (deadline_at IS NULL OR deadline_at > now())
       AND (NOT kind = ANY($5::text[]) OR (device_id IS NULL AND device_candidates IS NULL))
     ORDER BY priority DESC, queued_at
     LIMIT $2
       FOR UPDATE SKIP LOCKED
), picked AS (
    SELECT id, NULL::text AS device_id, '{}'::jsonb AS device_fields FROM scanned
    UNION ALL
    SELECT * FROM unnest($7::uuid[], $8::text[], $9::jsonb[]) AS t(id, device_id, device_fields)
), claimed AS (
    UPDATE jobs j
       SET status = 'running',
           attempts = j.attempts + 1,
           lease_until = now() + make_interval(secs => $3),
           lease_token = gen_random_uuid(),
           worker_id = $4,
           device_id = coalesce(p.device_id, j.device_id),
           payload = j.payload || p.device_fields,
           started_at = now(),
           updated_at = now()
      FROM picked p
     WHERE j.id = p.id AND j.status = 'queued'
    RETURNING j.*
), attempts AS (
    INSERT INTO job_attempts (job_id, attempt, worker_id, lease_token)
    SELECT id, attempts, worker_id, lease_token FROM claimed
), events AS (
    INSERT INTO job_events (job_id, type, data)
    SELECT id, 'running',
           jsonb_build_object('status', 'running', 'attempt', attempts, 'worker_id', worker_id)
           || CASE WHEN $7::uuid[] IS NULL THEN '{}'::jsonb
                   ELSE jsonb_build_object('device_id', device_id) END
      FROM claimed
    RETURNING id, job_id, type, data, created_at
), probe AS (
    -- Sees the queue as it was before this claim, so the jobs it took are left out.
    SELECT true AS probed,
           extract(epoch FROM min(q.run_after) - now())::float8 AS probe_wait_seconds,
           coalesce(bool_or(q.kind = ANY($5::text[]) AND q.run_after <= now()
                            AND (q.device_id IS NOT NULL OR q.device_candidates IS NOT NULL)),
                    false) AS probe_bound_due
      FROM jobs q
     WHERE $7::uuid[] IS NULL
       AND q.status = 'queued'
       AND q.kind = ANY($1::text[])
       AND (q.deadline_at IS NULL OR q.deadline_at > now())
       AND q.id NOT IN (SELECT id FROM scanned)
       -- Checked before the scan (no scan for a full batch), and again for the one row.
       AND (SELECT count(*) FROM scanned) < $2
       AND ($6::boolean OR NOT EXISTS (SELECT FROM scanned))
    HAVING $7::uuid[] IS NULL
       AND (SELECT count(*) FROM scanned) < $2
       AND ($6::boolean OR NOT EXISTS (SELECT FROM scanned))
)
SELECT c.*, e.id AS event_id, e.type AS event_type, e.data AS event_data,
       e.created_at AS event_created_at, coalesce(p.probed, false) AS probed,
       p.probe_wait_seconds, coalesce(p.probe_bound_due, false) AS probe_bound_due
  FROM async_commit
  LEFT JOIN probe p ON true
  LEFT JOIN (claimed c JOIN events e ON e.job_id = c.id) ON true
 ORDER BY c.priority DESC, c.queued_at;

-- name: job_heartbeat
-- Extends the lease of a job running under ($2 worker, $3 lease token); ends it when canceled.
WITH beat AS (
    UPDATE jobs
       SET lease_until = CASE WHEN cancel_requested THEN NULL
                              ELSE now() + make_interval(secs => $4) END,
           status = CASE WHEN cancel_requested THEN 'canceled' ELSE status END,
           finished_at = CASE WHEN cancel_requested THEN now() ELSE finished_at END,
           updated_at = now()
     WHERE id = $1
       AND status = 'running'
       AND worker_id = $2
       AND ($3::uuid IS NULL OR lease_token = $3)
    RETURNING id, status, lease_until, lease_token, attempts
), attempts AS (
    UPDATE job_attempts a
       SET finished_at = now(), outcome = 'canceled'
      FROM beat b
     WHERE b.status = 'canceled' AND a.job_id = b.id AND a.lease_token = b.lease_token
), events AS (
    INSERT INTO job_events (job_id, type, data)
    SELECT id, 'canceled', jsonb_build_object('status', 'canceled', 'attempt', attempts)
      FROM beat
     WHERE status = 'canceled'
)
SELECT * FROM beat;

-- name: job_complete_many
-- Finishes jobs (parallel arrays) still running under their worker and lease token, and
-- records the cost of each that finished done with a usage ($6 provider, $7 model, $8 tokens
-- in, $9 out; NULL provider: none): local providers ($10) cost 0; others by their model's
-- price, else the provider's '*' price, else 0 and priced = false. A job's last progress
-- ($11, NULL for none: the end of its stream) is written as its event just before the
-- terminal one, and only when the job is finished.
WITH input AS (
    SELECT *
      FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::jsonb[], $5::jsonb[], $6::text[],
                  $7::text[], $8::bigint[], $9::bigint[], $11::jsonb[])
        AS t(id, worker_id, lease_token, result, metrics, usage_provider, usage_model,
             tokens_in, tokens_out, progress)
), finished AS (
    UPDATE jobs j
       SET status = CASE WHEN j.cancel_requested THEN 'canceled' ELSE 'done' END,
           result = i.result,
           metrics = i.metrics,
           lease_until = NULL,
           finished_at = now(),
           updated_at = now()
      FROM input i
     WHERE j.id = i.id
       AND j.status = 'running'
       AND j.worker_id = i.worker_id
       AND (i.lease_token IS NULL OR j.lease_token = i.lease_token)
    RETURNING j.*
), attempts AS (
    UPDATE job_attempts a
       SET finished_at = now(), outcome = f.status
      FROM finished f
     WHERE a.job_id = f.id AND a.lease_token = f.lease_token
), progress AS (
    INSERT INTO job_events (job_id, type, data)
    SELECT f.id, 'progress', i.progress
      FROM finished f JOIN input i ON i.id = f.id
     WHERE i.progress IS NOT NULL
    RETURNING id, job_id, data, created_at
), events AS (
    -- After the progress events (the subquery runs that insert first): smaller ids.
    INSERT INTO job_events (job_id, type, data)
    SELECT id, status, jsonb_build_object('status', status, 'attempt', attempts)
      FROM finished
     WHERE (SELECT count(*) FROM progress) >= 0
    RETURNING id, job_id, type, data, created_at
), costs AS (
    INSERT INTO job_costs (job_id, provider, model, tokens_in, tokens_out, cost_usd, priced)
    SELECT i.id, i.usage_provider, i.usage_model, i.tokens_in, i.tokens_out,
           CASE WHEN i.usage_provider = ANY($10::text[]) THEN 0
                ELSE coalesce((i.tokens_in * p.input_per_1m
                               + i.tokens_out * p.output_per_1m) / 1e6, 0)
           END,
           i.usage_provider = ANY($10::text[]) OR p.provider IS NOT NULL
      FROM finished f
      JOIN input i ON i.id = f.id
      LEFT JOIN LATERAL (
          SELECT * FROM model_pricing mp
           WHERE mp.provider = i.usage_provider AND mp.model IN (i.usage_model, '*')
           ORDER BY mp.model = '*'
           LIMIT 1) p ON true
     WHERE f.status = 'done' AND i.usage_provider IS NOT NULL
    ON CONFLICT (job_id) DO NOTHING
)
-- The finished jobs with their terminal events and last progress (this replica hands them to
-- its followers).
SELECT f.*, e.id AS event_id, e.type AS event_type, e.data AS event_data,
       e.created_at AS event_created_at, p.id AS progress_id, p.data AS progress_data,
       p.created_at AS progress_created_at
  FROM finished f
  JOIN events e ON e.job_id = f.id
  LEFT JOIN progress p ON p.job_id = f.id;

-- name: job_fail
-- Fails a job running under ($2 worker, $3 lease token): back to queued after $7 seconds while
-- retryable ($6) and attempts remain, else error. $8 = release: back to queued now, the attempt
-- not counted.
WITH current AS (
    SELECT id,
           CASE WHEN cancel_requested THEN 'canceled'
                WHEN $8::bool THEN 'queued'
                WHEN $6::bool AND attempts < max_attempts
                     AND (deadline_at IS NULL OR deadline_at > now() + make_interval(secs => $7))
                     THEN 'queued'
                ELSE 'error' END AS next_status
      FROM jobs
     WHERE id = $1
       AND status = 'running'
       AND worker_id = $2
       AND ($3::uuid IS NULL OR lease_token = $3)
       FOR UPDATE
), failed AS (
    UPDATE jobs j
       SET status = c.next_status,
           attempts = CASE WHEN $8::bool AND c.next_status = 'queued' THEN j.attempts - 1
                           ELSE j.attempts END,
           error = $4,
           metrics = $5,
           run_after = CASE WHEN c.next_status <> 'queued' THEN j.run_after
                            WHEN $8::bool THEN now()
                            ELSE now() + make_interval(secs => $7) END,
           lease_until = NULL,
           finished_at = CASE WHEN c.next_status = 'queued' THEN NULL ELSE now() END,
           updated_at = now()
      FROM current c
     WHERE j.id = c.id
    RETURNING j.id, j.status, j.run_after, j.lease_token, j.attempts
), attempts AS (
    UPDATE job_attempts a
       SET finished_at = now(),
           outcome = CASE WHEN $8::bool THEN 'released' ELSE 'failed' END,
           error = $4
      FROM failed f
     WHERE a.job_id = f.id AND a.lease_token = f.lease_token
), events AS (
    INSERT INTO job_events (job_id, type, data)
    SELECT id,
           CASE WHEN status = 'queued' THEN 'retry' ELSE status END,
           jsonb_build_object('status', status, 'error', $4::text, 'attempt', attempts,
                              'run_after', run_after, 'released', $8::bool)
      FROM failed
)
SELECT * FROM failed;

-- name: job_cancel
-- Ends a queued job now; marks a running one so its worker's next heartbeat ends it.
WITH canceled AS (
    UPDATE jobs
       SET status = CASE WHEN status = 'queued' THEN 'canceled' ELSE status END,
           finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END,
           cancel_requested = true,
           updated_at = now()
     WHERE id = $1
       AND (status = 'queued' OR (status = 'running' AND NOT cancel_requested))
    RETURNING *
), events AS (
    INSERT INTO job_events (job_id, type, data)
    SELECT id,
           CASE WHEN status = 'canceled' THEN 'canceled' ELSE 'cancel_requested' END,
           jsonb_build_object('status', status)
      FROM canceled
)
SELECT * FROM canceled;

-- name: job_requeue_expired_leases
-- Returns running jobs whose lease expired to queued (or error when attempts are exhausted);
-- safe to run concurrently: rows are locked, the lease re-checked in the same statement.
WITH expired AS (
    SELECT id,
           CASE WHEN cancel_requested THEN 'canceled'
                WHEN attempts >= max_attempts THEN 'error'
                ELSE 'queued' END AS next_status
      FROM jobs
     WHERE status = 'running' AND lease_until < now()
     ORDER BY lease_until
     LIMIT $1
       FOR UPDATE SKIP LOCKED
), swept AS (
    UPDATE jobs j
       SET status = e.next_status,
           error = CASE WHEN e.next_status = 'error'
                        THEN 'lease expired; attempts exhausted (' || j.attempts || ')'
                        ELSE 'lease expired' END,
           lease_until = NULL,
           run_after = now(),
           finished_at = CASE WHEN e.next_status = 'queued' THEN NULL ELSE now() END,
           updated_at = now()
      FROM expired e
     WHERE j.id = e.id AND j.status = 'running' AND j.lease_until < now()
    RETURNING j.id, j.status, j.lease_token, j.attempts, j.error
), attempts AS (
    UPDATE job_attempts a
       SET finished_at = now(), outcome = 'lease_expired'
      FROM swept s
     WHERE a.job_id = s.id AND a.lease_token = s.lease_token
), events AS (
    INSERT INTO job_events (job_id, type, data)
    SELECT id,
           CASE WHEN status = 'queued' THEN 'retry' ELSE status END,
           jsonb_build_object('status', status, 'error', error, 'attempt', attempts)
      FROM swept
)
SELECT count(*) FROM swept;

-- name: job_fail_past_deadline
-- Ends queued and running jobs whose deadline passed as error "deadline exceeded".
WITH late AS (
    SELECT id
      FROM jobs
     WHERE status IN ('queued', 'running') AND deadline_at < now()
     LIMIT $1
       FOR UPDATE SKIP LOCKED
), ended AS (
    UPDATE jobs j
       SET status = 'error',
           error = 'deadline exceeded',
           lease_until = NULL,
           finished_at = now(),
           updated_at = now()
      FROM late l
     WHERE j.id = l.id AND j.status IN ('queued', 'running') AND j.deadline_at < now()
    RETURNING j.id, j.lease_token, j.attempts
), attempts AS (
    UPDATE job_attempts a
       SET finished_at = now(), outcome = 'deadline_exceeded'
      FROM ended e
     WHERE a.job_id = e.id AND a.lease_token = e.lease_token AND a.finished_at IS NULL
), events AS (
    INSERT INTO job_events (job_id, type, data)
    SELECT id, 'error',
           jsonb_build_object('status', 'error', 'error', 'deadline exceeded', 'attempt', attempts)
      FROM ended
)
SELECT count(*) FROM ended;

-- name: job_delete_finished_before
-- Deletes up to $2 finished jobs older than $1 seconds (attempts and events go with them).
WITH doomed AS (
    SELECT id
      FROM jobs
     WHERE status IN ('done', 'error', 'canceled')
       AND finished_at < now() - make_interval(secs => $1)
     LIMIT $2
       FOR UPDATE SKIP LOCKED
)
DELETE FROM jobs j USING doomed d WHERE j.id = d.id;

-- name: job_get_with_events_after
-- Job $1 and its events after id $2 (oldest first), read in one snapshot; no row: no such job.
SELECT j.*,
       (SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'id', e.id, 'type', e.type, 'data', e.data, 'created_at', e.created_at)
                ORDER BY e.id), '[]')
          FROM job_events e
         WHERE e.job_id = j.id AND e.id > $2) AS events
  FROM jobs j
 WHERE j.id = $1;

-- name: job_event_list_after
SELECT * FROM job_events WHERE job_id = $1 AND id > $2 ORDER BY id;

-- name: job_event_list_of_notifications
-- The events of the jobs $3 that NOTIFYs announced ($1 first and $2 last ids, one pair per
-- NOTIFY), oldest first, each with the first id of its NOTIFY. Concurrent statements take ids
-- from one sequence, so a statement's range may hold another's rows: only those of the
-- transaction that wrote the range's first event are its own. The others come with their own
-- NOTIFY, after the earlier events of the same jobs.
SELECT e.*, n.first_id AS notified_first_id
  FROM unnest($1::bigint[], $2::bigint[]) AS n(first_id, last_id)
  JOIN job_events f ON f.id = n.first_id
  JOIN job_events e ON e.id BETWEEN n.first_id AND n.last_id AND e.xmin = f.xmin
 WHERE e.job_id = ANY($3::uuid[])
 ORDER BY e.id;

-- name: job_event_insert_progress
-- A progress event of a job running under ($4 worker, $2 lease token), and whether the job's
-- cancellation was asked for (the worker then stops at once, not at its next heartbeat).
-- Committed without waiting for the WAL flush: a crash may lose a token of a stream, never a
-- job's result.
WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true)),
running AS (
    SELECT id, cancel_requested
      FROM jobs, async_commit
     WHERE id = $1
       AND status = 'running'
       AND worker_id = $4
       AND ($2::uuid IS NULL OR lease_token = $2)
), event AS (
    INSERT INTO job_events (job_id, type, data)
    SELECT id, 'progress', $3::jsonb FROM running
    RETURNING id, job_id, type, data, created_at
)
SELECT event.*, running.cancel_requested FROM event, running;

-- name: job_event_insert_progress_many
-- Progress events of several jobs at once ($1 ids, $2 lease tokens or NULL, $3 data, $4 worker
-- ids, item by item; no job twice), each written only when its job runs under that worker's
-- lease, as job_event_insert_progress: one row per event written, with its job's cancel flag.
-- One statement, so one NOTIFY for all of them. Committed without waiting for the WAL flush.
WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true)),
given AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::jsonb[], $4::text[])
           WITH ORDINALITY AS g (id, lease_token, data, worker_id, ord)
),
running AS (
    SELECT jobs.id, jobs.cancel_requested, given.data, given.ord
      FROM given JOIN jobs ON jobs.id = given.id, async_commit
     WHERE jobs.status = 'running'
       AND jobs.worker_id = given.worker_id
       AND (given.lease_token IS NULL OR jobs.lease_token = given.lease_token)
), event AS (
    INSERT INTO job_events (job_id, type, data)
    SELECT id, 'progress', data FROM running ORDER BY ord
    RETURNING id, job_id, type, data, created_at
)
SELECT event.*, running.cancel_requested FROM event JOIN running ON running.id = event.job_id;

-- name: worker_upsert
INSERT INTO workers (id, name, platform, arch, host, tags, kinds)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO UPDATE
   SET name = EXCLUDED.name, platform = EXCLUDED.platform, arch = EXCLUDED.arch,
       host = EXCLUDED.host, tags = EXCLUDED.tags, kinds = EXCLUDED.kinds, last_seen_at = now()
RETURNING *;
