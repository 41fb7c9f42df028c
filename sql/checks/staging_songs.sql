-- Checks of staging_songs (the whole catalog). Parameters: loaded_rows, max_quarantine_share.

-- name: row_count
-- The table holds exactly the rows the loader wrote, and at least one.
-- @blocking
SELECT CASE WHEN COUNT(*) = %(loaded_rows)s AND COUNT(*) > 0 THEN 0 ELSE 1 END AS failures,
       COUNT(*) AS rows_in_table,
       %(loaded_rows)s AS rows_loaded
FROM staging_songs;

-- name: unique_song_ids
-- No song_id appears in two song files (songs keeps one entry, chosen by content: transform/songs).
SELECT COUNT(*) AS failures
FROM (
    SELECT song_id
    FROM staging_songs
    GROUP BY song_id
    HAVING COUNT(*) > 1
) AS duplicated;

-- name: quarantine_share
-- Song files quarantined by the load: a warning up to the allowed share, an error above it.
SELECT q.rejected AS failures,
       CASE WHEN q.rejected + l.loaded > 0
             AND CAST(q.rejected AS DOUBLE PRECISION) / (q.rejected + l.loaded)
                 <= %(max_quarantine_share)s
            THEN 1 ELSE 0 END AS warn_only,
       q.rejected AS rows_quarantined,
       l.loaded AS rows_loaded,
       CASE WHEN q.rejected + l.loaded = 0 THEN 0.0
            ELSE CAST(q.rejected AS DOUBLE PRECISION) / (q.rejected + l.loaded) END AS quarantine_share,
       %(max_quarantine_share)s AS max_quarantine_share
FROM (SELECT COUNT(*) AS rejected FROM load_quarantine WHERE source_kind = 'song') AS q
CROSS JOIN (SELECT COUNT(*) AS loaded FROM staging_songs) AS l;
