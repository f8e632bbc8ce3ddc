-- The claim of device-bound jobs (Ollama kinds): one transaction under one advisory lock, so
-- counting running jobs per device and binding new ones cannot interleave between claimers.
-- The jobs chosen are claimed by job_claim of core/queue/jobs.sql, as those of other kinds,
-- and device-bound kinds' jobs bound to no device, are (lock-free).

-- name: device_claim_lock
SELECT pg_advisory_xact_lock(7093874201);

-- name: job_list_claimable_for_devices
-- Queued jobs of kinds $1 bound to a device (or to candidates) in claim order, locked for this
-- transaction. Unbound ones go through job_claim.
SELECT id, device_id, device_candidates
  FROM jobs
 WHERE status = 'queued'
   AND kind = ANY($1::text[])
   AND (device_id IS NOT NULL OR device_candidates IS NOT NULL)
   AND run_after <= now()
   AND (deadline_at IS NULL OR deadline_at > now())
 ORDER BY priority DESC, queued_at
 LIMIT $2
   FOR UPDATE SKIP LOCKED;

-- name: device_list_slots
-- Every Ollama device: where to reach it, its limits (own row, else its base device's, else
-- '*', as JSON) and how many device-bound jobs ($1 kinds) run on it.
SELECT d.id, d.online, d.ollama_addr, d.ollama_host,
       to_jsonb(coalesce(own, base, star)) AS limits,
       (SELECT count(*) FROM jobs j
         WHERE j.status = 'running' AND j.device_id = d.id AND j.kind = ANY($1::text[]))::int
           AS running,
       -- Its breaker (db/init/008_compat.sql): closed, open (cooling down) or half_open.
       CASE WHEN b.open_until IS NULL THEN 'closed'
            WHEN b.open_until > now() THEN 'open' ELSE 'half_open' END AS breaker
  FROM devices d
  LEFT JOIN device_limits own ON own.device_id = d.id
  LEFT JOIN device_limits base ON base.device_id = d.base_device_id
  LEFT JOIN device_limits star ON star.device_id = '*'
  LEFT JOIN breakers b ON b.target = 'device:' || d.id
 WHERE d.ollama_addr IS NOT NULL;
