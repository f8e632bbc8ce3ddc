-- A counter that every change to what routing reads of the fleet's devices moves on: devices,
-- their models, limits, and a (device, model) measured for the first time. Core keeps the
-- fleet it read and reads it again only when the counter moved (or the copy is a few seconds
-- old: running estimates change with every finished job without moving it). Written in the
-- transaction of the change, so a reader never keeps a copy older than what it can see.
CREATE TABLE IF NOT EXISTS fleet_version (
    one      boolean PRIMARY KEY DEFAULT true CHECK (one),
    version  bigint NOT NULL DEFAULT 0
);
INSERT INTO fleet_version (one, version) VALUES (true, 0) ON CONFLICT (one) DO NOTHING;

CREATE OR REPLACE FUNCTION llm_mcp_fleet_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE fleet_version SET version = version + 1 WHERE one;
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS devices_fleet_version ON devices;
CREATE TRIGGER devices_fleet_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON devices
    FOR EACH STATEMENT EXECUTE FUNCTION llm_mcp_fleet_changed();

DROP TRIGGER IF EXISTS models_fleet_version ON models;
CREATE TRIGGER models_fleet_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON models
    FOR EACH STATEMENT EXECUTE FUNCTION llm_mcp_fleet_changed();

DROP TRIGGER IF EXISTS device_models_fleet_version ON device_models;
CREATE TRIGGER device_models_fleet_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON device_models
    FOR EACH STATEMENT EXECUTE FUNCTION llm_mcp_fleet_changed();

DROP TRIGGER IF EXISTS device_limits_fleet_version ON device_limits;
CREATE TRIGGER device_limits_fleet_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON device_limits
    FOR EACH STATEMENT EXECUTE FUNCTION llm_mcp_fleet_changed();

-- Per row and on insert only: updating an estimate (every finished Ollama job) moves nothing.
DROP TRIGGER IF EXISTS device_model_stats_fleet_version ON device_model_stats;
CREATE TRIGGER device_model_stats_fleet_version
    AFTER INSERT ON device_model_stats
    FOR EACH ROW EXECUTE FUNCTION llm_mcp_fleet_changed();
