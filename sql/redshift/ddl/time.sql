-- One row per distinct play start time: as large as songplays, so not a DISTSTYLE ALL dimension.
-- DISTKEY(start_time): co-located with songplays, which is distributed on the same column.
-- SORTKEY(start_time): window deletes and range filters.
-- name: create_table
CREATE TABLE IF NOT EXISTS time (
    start_time TIMESTAMP NOT NULL ENCODE RAW,
    hour       INTEGER   NOT NULL ENCODE AZ64,
    day        INTEGER   NOT NULL ENCODE AZ64,
    week       INTEGER   NOT NULL ENCODE AZ64,
    month      INTEGER   NOT NULL ENCODE AZ64,
    year       INTEGER   NOT NULL ENCODE AZ64,
    weekday    INTEGER   NOT NULL ENCODE AZ64,
    PRIMARY KEY (start_time)
)
DISTKEY (start_time)
SORTKEY (start_time);
