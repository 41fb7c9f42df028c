"""Choosing the warehouse engine from ``SPARKIFY_WAREHOUSE_URL``: the only place that does."""

from __future__ import annotations

from sparkify_assets.settings.connection_secrets import refuse_password_in_url
from sparkify_assets.settings.problems import (
    PASSWORD_SETTING,
    WAREHOUSE_SETTING,
    SettingProblem,
)
from sparkify_assets.warehouse.interface import Warehouse
from sparkify_assets.warehouse.postgres.embedded_server import EmbeddedPostgres
from sparkify_assets.warehouse.postgres.engine import PostgresWarehouse
from sparkify_assets.warehouse.settings import WarehouseSettings
from sparkify_assets.warehouse.tables import checked_schema_name


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
        from sparkify_assets.warehouse.redshift.engine import RedshiftWarehouse  # driver when used

        return RedshiftWarehouse.connect(settings)
    raise SettingProblem(
        f"{WAREHOUSE_SETTING} must be postgresql://..., redshift://... or empty (the embedded"
        f" PostgreSQL); got a URL with scheme {scheme or '(none)'!r}.",
        setting=WAREHOUSE_SETTING,
    )
