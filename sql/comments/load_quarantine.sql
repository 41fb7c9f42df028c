-- Documentation of load_quarantine, shown by SQL clients and in the Dagster UI's column schema.

-- name: table
COMMENT ON TABLE load_quarantine IS 'Records the loaders refused, with the reason, the raw text and the run that saw them.';

-- name: column_source_kind
COMMENT ON COLUMN load_quarantine.source_kind IS 'event or song.';

-- name: column_log_date
COMMENT ON COLUMN load_quarantine.log_date IS 'Log date of the file (events only).';

-- name: column_source_file
COMMENT ON COLUMN load_quarantine.source_file IS 'Key of the file the record came from.';

-- name: column_line_number
COMMENT ON COLUMN load_quarantine.line_number IS 'Line number in the file (events only).';

-- name: column_reason
COMMENT ON COLUMN load_quarantine.reason IS 'Why the record was refused.';

-- name: column_raw_text
COMMENT ON COLUMN load_quarantine.raw_text IS 'The record as read (truncated to 4,000 characters).';

-- name: column_rejected_at
COMMENT ON COLUMN load_quarantine.rejected_at IS 'When the record was refused (UTC).';

-- name: column_run_id
COMMENT ON COLUMN load_quarantine.run_id IS 'Dagster run that refused it.';
