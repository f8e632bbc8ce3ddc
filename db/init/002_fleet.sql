-- The fleet: devices found by discovery, their models, limits, metrics and benchmarks.
-- Safe to apply more than once.

CREATE TABLE IF NOT EXISTS devices (
    -- Tailscale DNS name with its trailing dot ("box.tailnet.ts.net."), else the host name;
    -- an Ollama on a non-default port is its own device "<id>:<port>".
    id                text PRIMARY KEY,
    base_device_id    text,
    name              text,
    host_name         text,
    ips               text[] NOT NULL DEFAULT '{}',
    os                text,
    tags              text[] NOT NULL DEFAULT '{}',
    online            boolean NOT NULL DEFAULT false,
    last_seen_at      timestamptz,
    -- Where workers reach its Ollama ("http://100.64.0.1:11434") and the host header to send.
    ollama_addr       text,
    ollama_host       text,
    ollama_version    text,
    ollama_latency_ms double precision,
    offline_reason    text,
    offline_at        timestamptz,
    ram_gb            double precision,
    vram_gb           double precision,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS models (
    name           text PRIMARY KEY,
    family         text,
    parameter_size text,
    params_b       double precision,
    quantization   text,
    size_bytes     bigint,
    context_length integer,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS device_models (
    device_id  text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    model      text NOT NULL REFERENCES models (name) ON DELETE CASCADE,
    available  boolean NOT NULL DEFAULT true,
    size_bytes bigint,
    seen_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, model)
);
CREATE INDEX IF NOT EXISTS device_models_model_idx ON device_models (model) WHERE available;

-- Limits per device id, or "*" for every device without its own row.
CREATE TABLE IF NOT EXISTS device_limits (
    device_id     text PRIMARY KEY,
    ram_gb        double precision,
    vram_gb       double precision,
    max_params_b  double precision,
    max_size_gb   double precision,
    max_context_k double precision,
    allow_models  jsonb,
    deny_models   jsonb,
    source        text NOT NULL DEFAULT 'manual',
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS device_metrics (
    id          bigserial PRIMARY KEY,
    device_id   text NOT NULL,
    worker_id   text,
    metrics     jsonb NOT NULL DEFAULT '{}'::jsonb,
    reported_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS device_metrics_device_idx ON device_metrics (device_id, reported_at DESC);

CREATE TABLE IF NOT EXISTS benchmarks (
    id         bigserial PRIMARY KEY,
    job_id     uuid,
    device_id  text,
    provider   text NOT NULL,
    model      text NOT NULL,
    task_type  text NOT NULL,
    tokens_in  bigint,
    tokens_out bigint,
    latency_ms double precision,
    tps        double precision,
    ok         boolean NOT NULL DEFAULT true,
    error      text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS benchmarks_created_idx ON benchmarks (created_at DESC);
CREATE INDEX IF NOT EXISTS benchmarks_device_model_idx ON benchmarks (device_id, model, created_at DESC);

-- Running per-(device, model) estimate from benchmarks and ordinary jobs; routing reads it.
CREATE TABLE IF NOT EXISTS device_model_stats (
    device_id      text NOT NULL,
    model          text NOT NULL,
    samples        integer NOT NULL DEFAULT 0,
    tps            double precision,
    latency_ms     double precision,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, model)
);

CREATE TABLE IF NOT EXISTS discovery_runs (
    id          bigserial PRIMARY KEY,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    summary     jsonb NOT NULL DEFAULT '{}'::jsonb
);
