-- Writes to devices, models and device_models (discovery, worker signals, metrics).

-- name: device_list_online_ids
SELECT id FROM devices WHERE online ORDER BY id;

-- name: device_upsert_nodes
-- Upserts tailnet nodes ($1: jsonb array of objects). A device a worker reported offline
-- stays offline until a successful Ollama probe clears offline_reason.
INSERT INTO devices AS d (id, name, host_name, ips, os, tags, online, last_seen_at, offline_at)
SELECT t.id, t.name, t.host_name, coalesce(t.ips, '{}'), t.os, coalesce(t.tags, '{}'), t.online,
       coalesce(t.last_seen, CASE WHEN t.online THEN now() END),
       CASE WHEN NOT t.online THEN now() END
  FROM jsonb_to_recordset($1::jsonb)
    AS t(id text, name text, host_name text, ips text[], os text, tags text[], online boolean,
         last_seen timestamptz)
ON CONFLICT (id) DO UPDATE
   SET name = EXCLUDED.name,
       host_name = EXCLUDED.host_name,
       ips = EXCLUDED.ips,
       os = EXCLUDED.os,
       tags = EXCLUDED.tags,
       online = EXCLUDED.online AND d.offline_reason IS NULL,
       last_seen_at = coalesce(EXCLUDED.last_seen_at, d.last_seen_at),
       offline_at = CASE WHEN EXCLUDED.online AND d.offline_reason IS NULL THEN NULL
                         WHEN d.online THEN now()
                         ELSE d.offline_at END,
       updated_at = now();

-- name: device_set_offline_unless_node
-- Every device (and port device) whose tailnet node is not in $1 (the online node ids).
UPDATE devices
   SET online = false, offline_at = now(), updated_at = now()
 WHERE online AND coalesce(base_device_id, id) <> ALL($1::text[]);

-- name: device_record_ollama
-- A successful probe: the device (a port device is created here) is online and routable.
INSERT INTO devices AS d (id, base_device_id, name, host_name, ips, os, tags, online, last_seen_at,
                          ollama_addr, ollama_host, ollama_version, ollama_latency_ms,
                          ollama_checked_at)
VALUES ($1, $2, $3, $4, $5::text[], $6, $7::text[], true, now(), $8, $9, $10, $11, now())
ON CONFLICT (id) DO UPDATE
   SET base_device_id = EXCLUDED.base_device_id,
       name = EXCLUDED.name,
       host_name = EXCLUDED.host_name,
       ips = EXCLUDED.ips,
       os = EXCLUDED.os,
       tags = EXCLUDED.tags,
       online = true,
       last_seen_at = now(),
       ollama_addr = EXCLUDED.ollama_addr,
       ollama_host = EXCLUDED.ollama_host,
       ollama_version = EXCLUDED.ollama_version,
       ollama_latency_ms = EXCLUDED.ollama_latency_ms,
       ollama_error = NULL,
       ollama_checked_at = now(),
       offline_reason = NULL,
       offline_at = NULL,
       updated_at = now();

-- name: device_record_ollama_failure
-- Ollama did not answer: not routable (no address, its models unavailable); `online` stays
-- what tailscale says. Returns whether the device had an answering Ollama until now.
UPDATE devices d
   SET ollama_addr = NULL,
       ollama_latency_ms = NULL,
       ollama_error = $2,
       ollama_checked_at = now(),
       updated_at = now()
  FROM devices old
 WHERE d.id = $1 AND old.id = d.id
RETURNING old.ollama_addr IS NOT NULL AS had_ollama;

-- name: model_list_with_context
SELECT name FROM models WHERE context_length IS NOT NULL;

-- name: model_upsert_many
-- Catalog entries from /api/tags (+ /api/show); a known value is never erased by an unknown.
INSERT INTO models AS m (name, family, parameter_size, params_b, quantization, size_bytes,
                         context_length)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::text[], $6::bigint[],
                     $7::int[])
ON CONFLICT (name) DO UPDATE
   SET family = coalesce(EXCLUDED.family, m.family),
       parameter_size = coalesce(EXCLUDED.parameter_size, m.parameter_size),
       params_b = coalesce(EXCLUDED.params_b, m.params_b),
       quantization = coalesce(EXCLUDED.quantization, m.quantization),
       size_bytes = coalesce(EXCLUDED.size_bytes, m.size_bytes),
       context_length = coalesce(EXCLUDED.context_length, m.context_length),
       updated_at = now();

-- name: device_record_configured_failure
-- The Ollama at OLLAMA_BASE_URL did not answer: listed offline with the reason ($5), its
-- address kept (it is still the configured device; routing says it is offline).
INSERT INTO devices AS d (id, base_device_id, name, host_name, ips, online, ollama_addr,
                          ollama_host, ollama_error, ollama_checked_at, offline_reason, offline_at)
VALUES ($1, $2, $3, $4, $6::text[], false, $7, $8, $5, now(), $5, now())
ON CONFLICT (id) DO UPDATE
   SET online = false,
       ollama_addr = EXCLUDED.ollama_addr,
       ollama_latency_ms = NULL,
       ollama_error = $5,
       ollama_checked_at = now(),
       offline_reason = $5,
       offline_at = CASE WHEN d.online THEN now() ELSE coalesce(d.offline_at, now()) END,
       updated_at = now();

-- name: device_model_sync
-- Device $1 now has exactly models $2 (sizes $3): listed ones available, others not.
-- Returns (change, model) for every model that became available ('added') or not ('removed').
WITH listed AS (
    SELECT * FROM unnest($2::text[], $3::bigint[]) AS t(model, size_bytes)
), before AS (
    SELECT model, available FROM device_models WHERE device_id = $1
), upserted AS (
    INSERT INTO device_models (device_id, model, available, size_bytes, seen_at)
    SELECT $1, model, true, size_bytes, now() FROM listed
    ON CONFLICT (device_id, model) DO UPDATE
       SET available = true, size_bytes = EXCLUDED.size_bytes, seen_at = now()
), vanished AS (
    UPDATE device_models SET available = false
     WHERE device_id = $1 AND available AND model <> ALL($2::text[])
    RETURNING model
)
SELECT 'added' AS change, l.model
  FROM listed l LEFT JOIN before b USING (model)
 WHERE b.available IS NOT TRUE
UNION ALL
SELECT 'removed', model FROM vanished
ORDER BY 1, 2;

-- name: device_mark_offline
-- A worker could not reach the device. Returns the id; no row when the device is unknown.
UPDATE devices
   SET online = false,
       offline_reason = $2,
       offline_at = CASE WHEN online THEN now() ELSE coalesce(offline_at, now()) END,
       updated_at = now()
 WHERE id = $1
RETURNING id;

-- name: device_metrics_insert
INSERT INTO device_metrics (device_id, worker_id, metrics) VALUES ($1, $2, $3);

-- name: device_set_memory
-- Memory a worker reported; a NULL argument leaves that figure as it was.
UPDATE devices
   SET ram_gb = coalesce($2, ram_gb), vram_gb = coalesce($3, vram_gb), updated_at = now()
 WHERE id = $1
RETURNING id;
