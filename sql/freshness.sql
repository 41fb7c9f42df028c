-- The newest log date each log-dated table holds: what the freshness checks compare with the newest
-- day present in the source (lag), and with today (age). Same SQL on both engines; each reads an
-- indexed (PostgreSQL) or sort-key (Redshift) column.

-- name: staging_events
SELECT MAX(e.log_date) AS newest_log_date
FROM staging_events AS e;

-- name: songplays
SELECT CAST(MAX(p.start_time) AS DATE) AS newest_log_date
FROM songplays AS p;

-- name: time
SELECT CAST(MAX(t.start_time) AS DATE) AS newest_log_date
FROM time AS t;
