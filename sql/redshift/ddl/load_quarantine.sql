-- Records the loaders refused, with the reason; reloading a partition replaces its rows here too.
-- raw_text holds up to 4,000 characters (quarantine.RAW_TEXT_LIMIT), at most 4 bytes each.
-- DISTSTYLE EVEN: nothing joins it; rows spread over the slices.
-- SORTKEY(source_kind, log_date): every load deletes one kind's rows for a range of log dates.
-- name: create_table
CREATE TABLE IF NOT EXISTS load_quarantine (
    source_kind VARCHAR(16)    NOT NULL ENCODE RAW,
    log_date    DATE                    ENCODE RAW,
    source_file VARCHAR(1024)  NOT NULL ENCODE ZSTD,
    line_number INTEGER                 ENCODE AZ64,
    reason      VARCHAR(1024)  NOT NULL ENCODE ZSTD,
    raw_text    VARCHAR(16000)          ENCODE ZSTD,
    rejected_at TIMESTAMP      NOT NULL ENCODE AZ64,
    run_id      VARCHAR(64)    NOT NULL ENCODE ZSTD
)
DISTSTYLE EVEN
SORTKEY (source_kind, log_date);
