-- Routing: late binding of Ollama jobs to devices, per-device concurrency, limits extras.
-- Safe to apply more than once.

-- Devices a job that names none may run on, best first (routing's choice); the claim binds the
-- job to the first of them with a free slot. NULL: not device-bound (the worker's OLLAMA_BASE_URL).
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS device_candidates jsonb;

-- The device claim counts running jobs per device under its lock.
CREATE INDEX IF NOT EXISTS jobs_running_device_idx
    ON jobs (device_id) WHERE status = 'running' AND device_id IS NOT NULL;

-- Per-device override of DEVICE_MAX_CONCURRENCY.
ALTER TABLE device_limits ADD COLUMN IF NOT EXISTS max_concurrency integer;
