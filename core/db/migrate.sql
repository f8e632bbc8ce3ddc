-- The schema runner's own bookkeeping: which db/init files were applied, with which checksum.

-- name: migration_lock
-- Serialises replicas that start at once; released when the transaction ends.
SELECT pg_advisory_xact_lock($1)

-- name: schema_migrations_create
CREATE TABLE IF NOT EXISTS schema_migrations (
    name text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now())

-- name: schema_migration_list
SELECT name, checksum FROM schema_migrations

-- name: schema_migration_record
INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum,
                                 applied_at = now()
