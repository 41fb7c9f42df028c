-- Upkeep after a delete-and-insert, run by the Redshift engine when its decision rule
-- (redshift_upkeep.upkeep_plan) asks for it; {table} is a name from the project's table list.
-- Redshift marks deleted rows and reclaims them only on VACUUM, and plans with the statistics of the
-- last ANALYZE (https://docs.aws.amazon.com/redshift/latest/dg/r_ANALYZE.html,
-- https://docs.aws.amazon.com/redshift/latest/dg/r_VACUUM_command.html).

-- name: table_rows
SELECT COUNT(*) AS row_count FROM {table};

-- name: analyze_table
-- Fresh statistics when the replaced rows are a large share of the table (Redshift's own
-- analyze_threshold_percent would skip a smaller change anyway).
ANALYZE {table};

-- name: vacuum_delete_only
-- Reclaims the space of the deleted rows without re-sorting (the cheap kind of VACUUM); it cannot
-- run inside a transaction, so the engine runs it in autocommit mode.
VACUUM DELETE ONLY {table};
