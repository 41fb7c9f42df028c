-- Checks of users. The table is one whole dimension, so uniqueness is checked over all of it;
-- coverage over the window's events. Parameters: first_day / end_day (DATE, end exclusive).

-- name: unique_ids
-- user_id is unique.
-- @blocking
SELECT COUNT(*) AS failures
FROM (
    SELECT user_id
    FROM users
    GROUP BY user_id
    HAVING COUNT(*) > 1
) AS duplicated;

-- name: covers_window
-- Every identified user of the window's events is in users.
-- @blocking
SELECT COUNT(*) AS failures
FROM (
    SELECT DISTINCT e.user_id
    FROM staging_events AS e
    WHERE e.user_id IS NOT NULL
      AND e.log_date >= %(first_day)s
      AND e.log_date < %(end_day)s
) AS seen
WHERE NOT EXISTS (SELECT 1 FROM users AS u WHERE u.user_id = seen.user_id);

-- name: valid_level
-- level is free or paid, exactly: OCTET_LENGTH refuses 'free ', which Redshift's IN would accept
-- (it ignores trailing blanks when comparing VARCHARs).
SELECT COUNT(*) AS failures
FROM users
WHERE level IS NULL OR level NOT IN ('free', 'paid') OR OCTET_LENGTH(level) <> 4;

-- name: row_count
-- The table is not empty.
SELECT CASE WHEN COUNT(*) > 0 THEN 0 ELSE 1 END AS failures,
       COUNT(*) AS rows_in_table
FROM users;
