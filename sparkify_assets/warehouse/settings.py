"""How to reach the warehouse, whatever the engine: its URL, credentials, schema and timeouts."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_SCHEMA = "public"


@dataclass(frozen=True)
class WarehouseSettings:
    """How to reach the warehouse. ``url`` empty means the embedded PostgreSQL server; every
    table lives in ``schema`` (the connection's search_path)."""

    url: str = ""
    password: str = ""
    iam_role_arn: str = ""
    region: str = ""
    schema: str = DEFAULT_SCHEMA
    # Redshift only (see docs/redshift_first_run.md).
    staging_url: str = ""  # s3://bucket/prefix the engine writes COPY manifests to
    connect_timeout_seconds: int = 30  # connecting and logging in; never a running statement
    statement_timeout_seconds: int = 10_800  # server-side statement_timeout; 0 = none
