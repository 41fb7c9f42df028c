-- users on PostgreSQL: the shared sql/transform/users.sql with one difference, kept because it is
-- measured cheaper here (benchmarks/users_transform.py; figures in docs/redshift_first_run.md).
-- Each active user's latest ts is a correlated MAX in the select list: one probe of
-- staging_events_user_ts_idx per active user, so a day's cost does not grow with the history,
-- where the shared join form reads every event of each active user. Redshift may refuse this
-- pattern ("This type of correlated subquery pattern is not supported",
-- https://docs.aws.amazon.com/redshift/latest/dg/r_correlated_subqueries.html), so only the
-- PostgreSQL engine runs this file; the statements and their meaning are otherwise identical, and
-- tests/test_table_checks.py asserts both forms give the same users.

-- users: one row per identified user seen in any loaded event. Names, gender and level come from the
-- user's most recent event over all of staging_events (by ts, then item in session), so the result
-- does not depend on the order in which log dates were loaded. A window's load recomputes the users
-- who appear in it and drops users no longer present anywhere in staging.
-- Parameters: first_day / end_day (DATE, end exclusive).

-- name: delete_window_users
DELETE FROM users
WHERE user_id IN (
    SELECT e.user_id
    FROM staging_events AS e
    WHERE e.user_id IS NOT NULL
      AND e.log_date >= %(first_day)s
      AND e.log_date < %(end_day)s
);

-- name: delete_vanished_users
DELETE FROM users
WHERE NOT EXISTS (
    SELECT 1
    FROM staging_events AS e
    WHERE e.user_id = users.user_id
);

-- name: insert_window_users
INSERT INTO users (user_id, first_name, last_name, gender, level)
SELECT ranked.user_id,
       ranked.first_name,
       ranked.last_name,
       ranked.gender,
       ranked.level
FROM (
    SELECT e.user_id,
           e.first_name,
           e.last_name,
           e.gender,
           e.level,
           ROW_NUMBER() OVER (
               PARTITION BY e.user_id
               ORDER BY e.item_in_session DESC, e.session_id DESC, e.source_file DESC
           ) AS recency
    FROM staging_events AS e
    JOIN (
        -- Each active user's latest ts: one index probe per user (see the file's head).
        SELECT active.user_id,
               (SELECT MAX(s.ts) FROM staging_events AS s WHERE s.user_id = active.user_id)
                   AS latest_ts
        FROM (
            SELECT DISTINCT w.user_id
            FROM staging_events AS w
            WHERE w.user_id IS NOT NULL
              AND w.log_date >= %(first_day)s
              AND w.log_date < %(end_day)s
        ) AS active
    ) AS latest
      ON latest.user_id = e.user_id
     AND latest.latest_ts = e.ts
) AS ranked
WHERE ranked.recency = 1;
