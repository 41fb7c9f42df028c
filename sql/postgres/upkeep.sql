-- Fresh planner statistics after a load or a replacement, run by the PostgreSQL engine inside the
-- writing transaction (ANALYZE sees that transaction's own rows); {table} is a name from the
-- project's table list. Without statistics the planner takes a freshly filled table for a handful
-- of rows and picks nested loops: on 1M plays a monthly ranking took 3.8 s instead of 0.4 s, and the
-- transforms after a first load minutes instead of milliseconds.

-- name: needs_analyze
-- Whether %(rows_changed)s changed rows (deleted + inserted, or loaded) are a hundredth of the rows
-- the statistics know of, or none are known yet (stale statistics cost a plan more than a few per
-- cent of new rows do). A day added to a long history is not: sampling a large table would make
-- each day cost more as history grows; autovacuum analyzes it in the background.
SELECT %(rows_changed)s >= 0.01 * GREATEST(reltuples, 0) AS needs_analyze
FROM pg_class
WHERE oid = CAST(%(table_name)s AS REGCLASS);

-- name: analyze_table
ANALYZE {table};
