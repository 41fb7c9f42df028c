"""The Redshift engine: connecting, COPY from S3, statements by name, upkeep, the smoke test."""
