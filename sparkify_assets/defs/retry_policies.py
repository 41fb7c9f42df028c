"""How table assets retry: a dropped connection or a transient database error is retried with
exponential backoff; errors a retry cannot fix raise ``dg.Failure(allow_retries=False)``."""

import dagster as dg

warehouse_retry_policy = dg.RetryPolicy(
    max_retries=3,
    delay=2,
    backoff=dg.Backoff.EXPONENTIAL,
    jitter=dg.Jitter.PLUS_MINUS,
)
