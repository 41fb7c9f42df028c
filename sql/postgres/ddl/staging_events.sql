-- Raw events, one row per accepted log line, typed; kept after the load so the star schema can be
-- rebuilt from it. Replaced a log date (partition) at a time.
-- name: create_table
CREATE TABLE IF NOT EXISTS staging_events (
    log_date        DATE             NOT NULL,
    artist          VARCHAR,
    auth            VARCHAR,
    first_name      VARCHAR,
    gender          VARCHAR,
    item_in_session INTEGER          NOT NULL,
    last_name       VARCHAR,
    length          DOUBLE PRECISION,
    level           VARCHAR,
    location        VARCHAR,
    method          VARCHAR,
    page            VARCHAR          NOT NULL,
    registration    BIGINT,
    session_id      INTEGER          NOT NULL,
    song            VARCHAR,
    status          INTEGER,
    ts              BIGINT           NOT NULL,
    start_time      TIMESTAMP        NOT NULL
        GENERATED ALWAYS AS (TIMESTAMP '1970-01-01' + ts * INTERVAL '1 millisecond') STORED,
    user_agent      VARCHAR,
    user_id         INTEGER,
    source_file     VARCHAR          NOT NULL,
    source_line     INTEGER
);

-- name: index_log_date
CREATE INDEX IF NOT EXISTS staging_events_log_date_idx ON staging_events (log_date);

-- name: index_user_ts
CREATE INDEX IF NOT EXISTS staging_events_user_ts_idx ON staging_events (user_id, ts);
