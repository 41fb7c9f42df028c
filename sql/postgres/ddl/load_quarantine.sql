-- Records the loaders refused, with the reason; reloading a partition replaces its rows here too.
-- name: create_table
CREATE TABLE IF NOT EXISTS load_quarantine (
    source_kind VARCHAR   NOT NULL,
    log_date    DATE,
    source_file VARCHAR   NOT NULL,
    line_number INTEGER,
    reason      VARCHAR   NOT NULL,
    raw_text    VARCHAR,
    rejected_at TIMESTAMP NOT NULL,
    run_id      VARCHAR   NOT NULL
);

-- name: index_kind_date
CREATE INDEX IF NOT EXISTS load_quarantine_kind_date_idx ON load_quarantine (source_kind, log_date);
