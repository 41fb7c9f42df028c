-- The project instance's event log (instance/check_planning_event_log.py): a run's batch of asset
-- events written in one statement each, with psycopg2's execute_values filling the VALUES list
-- (%s). The tables and columns are dagster-postgres' own (event_logs, asset_event_tags).

-- name: insert_events
INSERT INTO event_logs (run_id, event, dagster_event_type, timestamp, step_key, asset_key, partition)
VALUES %s
RETURNING id;

-- name: insert_asset_event_tags
INSERT INTO asset_event_tags (event_id, asset_key, key, value, event_timestamp)
VALUES %s;
