-- Settings of each Redshift session the engine opens.

-- name: set_statement_timeout
-- The server-side bound on a statement's run time, queueing in WLM included
-- (https://docs.aws.amazon.com/redshift/latest/dg/r_statement_timeout.html): the connection itself
-- has no socket timeout once open, so a long COPY is never cut off by the client. {milliseconds}
-- is an integer the engine checks (SPARKIFY_REDSHIFT_STATEMENT_TIMEOUT_SECONDS x 1000; 0 = none).
SET statement_timeout TO {milliseconds};

-- name: server_time
-- The server's clock (UTC), read before a load: the lower bound of its load-error scan.
SELECT CAST(GETDATE() AS TIMESTAMP) AS now;
