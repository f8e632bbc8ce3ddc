-- The durable job queue: jobs, their attempts and their events.
-- Safe to apply more than once.

CREATE TABLE IF NOT EXISTS jobs (
    id               uuid PRIMARY KEY,
    kind             text NOT NULL CHECK (length(kind) BETWEEN 1 AND 200),
    payload          jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(payload) = 'object'),
    priority         integer NOT NULL DEFAULT 0,
    source           text,
    status           text NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'running', 'done', 'error', 'canceled')),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts     integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
    lease_until      timestamptz,
    lease_token      uuid,
    deadline_at      timestamptz,
    run_after        timestamptz NOT NULL DEFAULT now(),
    worker_id        text,
    result           jsonb,
    metrics          jsonb,
    error            text,
    idempotency_key  text,
    provider         text,
    model            text,
    device_id        text,
    cancel_requested boolean NOT NULL DEFAULT false,
    queued_at        timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    -- A running job always has a lease; a finished one always has a finish time.
    CONSTRAINT jobs_running_has_lease
        CHECK (status <> 'running' OR (lease_until IS NOT NULL AND lease_token IS NOT NULL)),
    CONSTRAINT jobs_finished_has_time
        CHECK (status NOT IN ('done', 'error', 'canceled') OR finished_at IS NOT NULL)
);

CREATE UNIQUE INDEX IF NOT EXISTS jobs_idempotency_key_uniq
    ON jobs (idempotency_key) WHERE idempotency_key IS NOT NULL;
-- The claim scans this index in claim order.
CREATE INDEX IF NOT EXISTS jobs_claim_order_idx
    ON jobs (priority DESC, queued_at) WHERE status = 'queued';
CREATE INDEX IF NOT EXISTS jobs_lease_idx
    ON jobs (lease_until) WHERE status = 'running';
CREATE INDEX IF NOT EXISTS jobs_deadline_idx
    ON jobs (deadline_at) WHERE status IN ('queued', 'running') AND deadline_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_finished_idx
    ON jobs (finished_at) WHERE status IN ('done', 'error', 'canceled');
CREATE INDEX IF NOT EXISTS jobs_listing_idx ON jobs (queued_at DESC, id DESC);

CREATE TABLE IF NOT EXISTS job_attempts (
    id          bigserial PRIMARY KEY,
    job_id      uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempt     integer NOT NULL,
    worker_id   text,
    lease_token uuid NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    outcome     text,
    error       text
);
CREATE INDEX IF NOT EXISTS job_attempts_job_idx ON job_attempts (job_id, lease_token);

-- Every transition of a job, in order; SSE ids are these ids.
CREATE TABLE IF NOT EXISTS job_events (
    id         bigserial PRIMARY KEY,
    job_id     uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    type       text NOT NULL,
    data       jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS job_events_job_idx ON job_events (job_id, id);

CREATE TABLE IF NOT EXISTS workers (
    id            text PRIMARY KEY,
    name          text,
    platform      text,
    arch          text,
    host          text,
    tags          jsonb NOT NULL DEFAULT '{}'::jsonb,
    kinds         text[] NOT NULL DEFAULT '{}',
    registered_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now()
);

-- One NOTIFY per statement that writes events, with a tiny payload:
-- "<first event id>,<last event id>;<kind>:<jobs that became claimable>,...".
-- Listeners fetch what they need by id; claimers wake for their kinds.
CREATE OR REPLACE FUNCTION llm_mcp_notify_job_events() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    first_id bigint;
    last_id  bigint;
    kinds    text;
BEGIN
    SELECT min(e.id), max(e.id) INTO first_id, last_id FROM new_events e;
    IF first_id IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT string_agg(c.kind || ':' || c.n, ',') INTO kinds
      FROM (SELECT j.kind, count(*) AS n
              FROM new_events e JOIN jobs j ON j.id = e.job_id
             WHERE e.type IN ('queued', 'retry')
             GROUP BY j.kind) c;
    IF length(kinds) > 7000 THEN
        kinds := '*';
    END IF;
    PERFORM pg_notify('llm_mcp_job_events', first_id || ',' || last_id || ';' || coalesce(kinds, ''));
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS job_events_notify ON job_events;
CREATE TRIGGER job_events_notify
    AFTER INSERT ON job_events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION llm_mcp_notify_job_events();
