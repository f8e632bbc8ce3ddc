-- The read side of the fleet: what GET /v1/devices and GET /v1/models show.

-- name: device_list
-- Devices with their load (running jobs pinned to them); $1: online ones only.
SELECT d.*,
       (SELECT count(*) FROM jobs j WHERE j.device_id = d.id AND j.status = 'running') AS load
  FROM devices d
 WHERE NOT $1::boolean OR d.online
 ORDER BY d.id;

-- name: device_model_list_available
SELECT dm.device_id, dm.size_bytes AS device_size_bytes, dm.seen_at, m.*
  FROM device_models dm
  JOIN models m ON m.name = dm.model
 WHERE dm.available
 ORDER BY dm.device_id, m.name;

-- name: device_limits_list
SELECT device_id, ram_gb, vram_gb, max_params_b, max_size_gb, max_context_k, allow_models,
       deny_models, max_concurrency, source, updated_at
  FROM device_limits;

-- name: benchmark_list_latest_per_device_model
SELECT DISTINCT ON (device_id, model)
       device_id, model, task_type, tokens_in, tokens_out, latency_ms, tps, ok, created_at
  FROM benchmarks
 WHERE device_id IS NOT NULL
 ORDER BY device_id, model, created_at DESC;

-- name: model_list
-- The catalog; `devices`: where the model is available on an online device whose Ollama answers.
SELECT m.*,
       coalesce(array_agg(d.id ORDER BY d.id)
                  FILTER (WHERE dm.available AND d.online AND d.ollama_addr IS NOT NULL),
                '{}') AS devices
  FROM models m
  LEFT JOIN device_models dm ON dm.model = m.name
  LEFT JOIN devices d ON d.id = dm.device_id
 GROUP BY m.name
 ORDER BY m.name;
