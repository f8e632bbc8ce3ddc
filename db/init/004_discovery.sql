-- Discovery: what the last Ollama probe of a device found, and the indexes the fleet views use.
-- Safe to apply more than once.

-- Why a device with an Ollama is not routable right now ("timed out after 2s", ...), and when
-- it was last probed. ollama_addr is NULL while its Ollama does not answer.
ALTER TABLE devices ADD COLUMN IF NOT EXISTS ollama_error text;
ALTER TABLE devices ADD COLUMN IF NOT EXISTS ollama_checked_at timestamptz;

CREATE INDEX IF NOT EXISTS devices_base_idx ON devices (base_device_id)
    WHERE base_device_id IS NOT NULL;

-- Load per device: running jobs pinned to it.
CREATE INDEX IF NOT EXISTS jobs_running_device_idx ON jobs (device_id)
    WHERE status = 'running' AND device_id IS NOT NULL;

CREATE INDEX IF NOT EXISTS discovery_runs_finished_idx ON discovery_runs (finished_at DESC)
    WHERE finished_at IS NOT NULL;
