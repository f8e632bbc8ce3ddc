-- Circuit breakers, cloud fallback of routed jobs, model pricing and job costs.

-- One breaker per device ('device:<id>') and per cloud provider ('provider:<name>').
-- closed: open_until IS NULL. open: open_until > now() (nothing runs there). half-open:
-- open_until <= now() (one probe job at a time; a success closes it, a failure reopens it).
CREATE TABLE IF NOT EXISTS breakers (
    target       text PRIMARY KEY,
    failures     integer NOT NULL DEFAULT 0,
    open_until   timestamptz,
    opened_at    timestamptz,
    last_error   text,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Where a routed Ollama job goes when its devices fail and the request allowed the cloud
-- (constraints.fallback): the cloud job it becomes.
CREATE TABLE IF NOT EXISTS job_fallbacks (
    job_id    uuid PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    kind      text NOT NULL,
    provider  text NOT NULL,
    model     text NOT NULL,
    payload   jsonb NOT NULL
);

-- Price per 1M tokens in and out, per (provider, model); model '*' is the provider's default.
CREATE TABLE IF NOT EXISTS model_pricing (
    provider       text NOT NULL,
    model          text NOT NULL,
    input_per_1m   double precision NOT NULL CHECK (input_per_1m >= 0),
    output_per_1m  double precision NOT NULL CHECK (output_per_1m >= 0),
    source         text NOT NULL DEFAULT 'api',
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, model)
);

-- The cost of each finished job (local jobs cost 0); kept after the job row is deleted.
CREATE TABLE IF NOT EXISTS job_costs (
    job_id       uuid PRIMARY KEY,
    finished_at  timestamptz NOT NULL DEFAULT now(),
    provider     text NOT NULL,
    model        text NOT NULL,
    tokens_in    bigint NOT NULL DEFAULT 0,
    tokens_out   bigint NOT NULL DEFAULT 0,
    cost_usd     double precision NOT NULL DEFAULT 0,
    priced       boolean NOT NULL DEFAULT true
);
CREATE INDEX IF NOT EXISTS job_costs_finished_at ON job_costs (finished_at);
