-- Lines a COPY rejected, read back from Redshift's load-error log. Which log depends on the target:
-- STL_LOAD_ERRORS exists on provisioned main clusters only (not on Serverless, and it does not hold
-- COPYs run on concurrency-scaling clusters:
-- https://docs.aws.amazon.com/redshift/latest/dg/r_STL_LOAD_ERRORS.html); SYS_LOAD_ERROR_DETAIL is
-- Serverless's (https://docs.aws.amazon.com/redshift/latest/dg/SYS_LOAD_ERROR_DETAIL.html), with
-- no raw line.
--
-- A COPY's rows are found by this session and query id, not by pg_last_copy_id(): after a COPY
-- fails and its transaction is rolled back, PG_LAST_COPY_ID is not updated
-- (https://docs.aws.amazon.com/redshift/latest/dg/PG_LAST_COPY_ID.html), so it would name an earlier
-- COPY or none. The log is not transactional, and a session runs one statement at a time: the rows
-- of this session (pg_backend_pid() is the log's session) with a query id above the highest one
-- seen before the COPY are that COPY's. *_watermark reads that highest id before the first COPY
-- (a reused process id's older rows stay below it); started_after bounds the scan to this load.
-- Parameters: started_after (TIMESTAMP, UTC), after_query (BIGINT).

-- name: provisioned_watermark
SELECT COALESCE(MAX(e.query), 0) AS last_query
FROM stl_load_errors AS e
WHERE e.session = pg_backend_pid();

-- name: provisioned_errors
SELECT e.query AS query_id,
       TRIM(e.filename) AS file_name,
       e.line_number,
       TRIM(e.colname) AS column_name,
       e.err_code AS error_code,
       TRIM(e.err_reason) AS error_reason,
       TRIM(e.raw_field_value) AS raw_field_value,
       TRIM(e.raw_line) AS raw_line
FROM stl_load_errors AS e
WHERE e.session = pg_backend_pid()
  AND e.starttime >= %(started_after)s
  AND e.query > %(after_query)s
ORDER BY e.query, e.filename, e.line_number;

-- name: serverless_watermark
SELECT COALESCE(MAX(e.query_id), 0) AS last_query
FROM sys_load_error_detail AS e
WHERE e.session_id = pg_backend_pid();

-- name: serverless_errors
SELECT e.query_id,
       TRIM(e.file_name) AS file_name,
       e.line_number,
       TRIM(e.column_name) AS column_name,
       e.error_code,
       TRIM(e.error_message) AS error_reason,
       CAST(NULL AS VARCHAR(1)) AS raw_field_value,
       CAST(NULL AS VARCHAR(1)) AS raw_line
FROM sys_load_error_detail AS e
WHERE e.session_id = pg_backend_pid()
  AND e.start_time >= %(started_after)s
  AND e.query_id > %(after_query)s
ORDER BY e.query_id, e.file_name, e.line_number;
