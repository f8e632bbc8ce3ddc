-- Queries of routing: the fleet as routing sees it, limits, benchmarks and measured figures
-- (tables devices, models, device_models, device_limits, benchmarks, device_model_stats).

-- name: fleet_snapshot
-- What routing reads, in one round trip. Always: the fleet version (db/init), kinds of workers
-- seen within $1 seconds, how many device-bound jobs ($2 kinds) run on each device, and the
-- breakers that are not closed. Only when the version is not $3 (the caller's copy): every
-- device with an Ollama, the models devices have, limits, and the measured (device, model)
-- figures.
SELECT
    v.version,
    (SELECT coalesce(array_agg(DISTINCT k), '{}')
       FROM workers w, unnest(w.kinds) AS k
      WHERE w.last_seen_at > now() - make_interval(secs => $1)) AS kinds,
    (SELECT coalesce(jsonb_object_agg(r.device_id, r.n), '{}')
       FROM (SELECT j.device_id, count(*) AS n
               FROM jobs j
              WHERE j.status = 'running' AND j.device_id IS NOT NULL
                AND j.kind = ANY($2::text[])
              GROUP BY j.device_id) r) AS running,
    -- Breakers that are not closed (db/init/008_compat.sql), with whether they still cool down.
    (SELECT coalesce(jsonb_agg(jsonb_build_object(
                'target', b.target, 'failures', b.failures, 'cooling', b.open_until > now(),
                'last_error', b.last_error)), '[]')
       FROM breakers b
      WHERE b.open_until IS NOT NULL) AS breakers,
    CASE WHEN v.version IS DISTINCT FROM $3 THEN
    (SELECT coalesce(jsonb_agg(jsonb_build_object(
                'id', d.id, 'online', d.online, 'ollama_addr', d.ollama_addr,
                'ollama_host', d.ollama_host, 'ips', d.ips, 'base_device_id', d.base_device_id)
             ORDER BY d.id), '[]')
       FROM devices d
      WHERE d.ollama_addr IS NOT NULL) END AS devices,
    CASE WHEN v.version IS DISTINCT FROM $3 THEN
    (SELECT coalesce(jsonb_agg(jsonb_build_object(
                'device_id', dm.device_id, 'model', dm.model, 'params_b', m.params_b,
                'size_bytes', coalesce(dm.size_bytes, m.size_bytes))), '[]')
       FROM device_models dm
       LEFT JOIN models m ON m.name = dm.model
      WHERE dm.available) END AS models,
    CASE WHEN v.version IS DISTINCT FROM $3 THEN
    (SELECT coalesce(jsonb_agg(to_jsonb(l)), '[]') FROM device_limits l) END AS limits,
    CASE WHEN v.version IS DISTINCT FROM $3 THEN
    (SELECT coalesce(jsonb_agg(jsonb_build_object(
                'device_id', s.device_id, 'model', s.model, 'samples', s.samples,
                'tps', s.tps, 'latency_ms', s.latency_ms)), '[]')
       FROM device_model_stats s) END AS stats
  FROM fleet_version v;

-- name: device_limits_delete_missing
-- Removes limits that came from source $1 and are no longer in it (device ids $2).
DELETE FROM device_limits WHERE source = $1 AND NOT (device_id = ANY($2::text[]));

-- name: device_limits_upsert
INSERT INTO device_limits (device_id, ram_gb, vram_gb, max_params_b, max_size_gb, max_context_k,
                           allow_models, deny_models, max_concurrency, source, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
ON CONFLICT (device_id) DO UPDATE
   SET ram_gb = EXCLUDED.ram_gb, vram_gb = EXCLUDED.vram_gb,
       max_params_b = EXCLUDED.max_params_b, max_size_gb = EXCLUDED.max_size_gb,
       max_context_k = EXCLUDED.max_context_k, allow_models = EXCLUDED.allow_models,
       deny_models = EXCLUDED.deny_models, max_concurrency = EXCLUDED.max_concurrency,
       source = EXCLUDED.source, updated_at = now();

-- name: device_model_stats_update
-- Folds one measurement into the running (device, model) estimate (exponential average).
INSERT INTO device_model_stats AS s (device_id, model, samples, tps, latency_ms, updated_at)
VALUES ($1, $2, 1, $3, $4, now())
ON CONFLICT (device_id, model) DO UPDATE
   SET samples = s.samples + 1,
       tps = CASE WHEN EXCLUDED.tps IS NULL THEN s.tps
                  WHEN s.tps IS NULL THEN EXCLUDED.tps
                  ELSE s.tps * 0.7 + EXCLUDED.tps * 0.3 END,
       latency_ms = CASE WHEN EXCLUDED.latency_ms IS NULL THEN s.latency_ms
                         WHEN s.latency_ms IS NULL THEN EXCLUDED.latency_ms
                         ELSE s.latency_ms * 0.7 + EXCLUDED.latency_ms * 0.3 END,
       updated_at = now();

-- name: benchmark_insert
INSERT INTO benchmarks (job_id, device_id, provider, model, task_type, tokens_in, tokens_out,
                        latency_ms, tps, ok, error)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING id;

-- name: benchmark_list_recent
SELECT * FROM benchmarks ORDER BY created_at DESC, id DESC LIMIT $1;
