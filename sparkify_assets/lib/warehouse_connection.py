"""Choosing the warehouse engine from ``SPARKIFY_WAREHOUSE_URL``: the only place that does."""

from __future__ import annotations

from dataclasses import dataclass

from sparkify_assets.lib.connection_secrets import refuse_password_in_url
from sparkify_assets.lib.embedded_postgres import EmbeddedPostgres
from sparkify_assets.lib.postgres_warehouse import PostgresWarehouse
from sparkify_assets.lib.setting_problems import (
    PASSWORD_SETTING,
    WAREHOUSE_SETTING,
    SettingProblem,
)
from sparkify_assets.lib.warehouse import Warehouse, checked_schema_name

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


def connect_warehouse(settings: WarehouseSettings) -> Warehouse:
    """An open connection to the warehouse ``settings`` name."""
    url = settings.url.strip()
    schema = checked_schema_name(settings.schema)
    if not url:
        server = EmbeddedPostgres.for_home()
        server.ensure_database()
        return PostgresWarehouse(server.url(), password=server.password, schema=schema)
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in ("postgresql", "postgres", "redshift"):
        try:
            refuse_password_in_url(
                url,
                setting=WAREHOUSE_SETTING,
                password_setting=PASSWORD_SETTING,
            )
        except ValueError as error:  # a configuration mistake: retrying cannot fix it
            raise SettingProblem(str(error), setting=WAREHOUSE_SETTING) from None
    if scheme in ("postgresql", "postgres"):
        return PostgresWarehouse(url, password=settings.password, schema=schema)
    if scheme == "redshift":
        from sparkify_assets.lib.redshift_warehouse import RedshiftWarehouse

        return RedshiftWarehouse.connect(settings)
    raise SettingProblem(
        f"{WAREHOUSE_SETTING} must be postgresql://..., redshift://... or empty (the embedded"
        f" PostgreSQL); got a URL with scheme {scheme or '(none)'!r}.",
        setting=WAREHOUSE_SETTING,
    )
