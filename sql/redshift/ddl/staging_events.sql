-- Raw events, one row per accepted log line, typed; kept after the load so the star schema can be
-- rebuilt from it. Replaced a log date (partition) at a time, from a COPY into a temporary table
-- (sql/redshift/staging.sql). VARCHAR sizes are bytes, the limits event_records.TEXT_LIMITS enforces.
-- DISTKEY(user_id): the users rebuild ranks each user's events, a join on user_id kept on one slice.
-- SORTKEY(log_date): every load deletes and every check scans a range of log dates.
-- name: create_table
CREATE TABLE IF NOT EXISTS staging_events (
    log_date        DATE             NOT NULL ENCODE RAW,
    artist          VARCHAR(512)              ENCODE ZSTD,
    auth            VARCHAR(32)               ENCODE ZSTD,
    first_name      VARCHAR(256)              ENCODE ZSTD,
    gender          VARCHAR(16)               ENCODE ZSTD,
    item_in_session INTEGER          NOT NULL ENCODE AZ64,
    last_name       VARCHAR(256)              ENCODE ZSTD,
    length          DOUBLE PRECISION          ENCODE ZSTD,
    level           VARCHAR(16)               ENCODE ZSTD,
    location        VARCHAR(512)              ENCODE ZSTD,
    method          VARCHAR(16)               ENCODE ZSTD,
    page            VARCHAR(64)      NOT NULL ENCODE ZSTD,
    registration    BIGINT                    ENCODE AZ64,
    session_id      INTEGER          NOT NULL ENCODE AZ64,
    song            VARCHAR(512)              ENCODE ZSTD,
    status          INTEGER                   ENCODE AZ64,
    ts              BIGINT           NOT NULL ENCODE AZ64,
    start_time      TIMESTAMP        NOT NULL ENCODE AZ64,
    user_agent      VARCHAR(1024)             ENCODE ZSTD,
    user_id         INTEGER                   ENCODE AZ64,
    source_file     VARCHAR(1024)    NOT NULL ENCODE ZSTD,
    source_line     INTEGER                   ENCODE AZ64
)
DISTKEY (user_id)
SORTKEY (log_date);
