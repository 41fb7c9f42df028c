-- The fact table: it grows with every log date.
-- DISTKEY(start_time): time has one row per distinct start_time and grows as fast, so the one
-- large-to-large join (songplays to time) stays on each slice; the other dimensions are ALL.
-- SORTKEY(start_time): window deletes, window checks and "plays per hour / per year" all filter on a
-- start_time range.
-- name: create_table
CREATE TABLE IF NOT EXISTS songplays (
    songplay_id CHAR(32)      NOT NULL ENCODE ZSTD,
    start_time  TIMESTAMP     NOT NULL ENCODE RAW,
    user_id     INTEGER                ENCODE AZ64,
    level       VARCHAR(16)            ENCODE ZSTD,
    song_id     VARCHAR(32)            ENCODE ZSTD,
    artist_id   VARCHAR(32)            ENCODE ZSTD,
    session_id  INTEGER       NOT NULL ENCODE AZ64,
    location    VARCHAR(512)           ENCODE ZSTD,
    user_agent  VARCHAR(1024)          ENCODE ZSTD,
    PRIMARY KEY (songplay_id)
)
DISTKEY (start_time)
SORTKEY (start_time);
