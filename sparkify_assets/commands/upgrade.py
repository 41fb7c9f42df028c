"""Is the warehouse at this release's schema version (before a build), and bringing it there, with
the Dagster instance's storage, on upgrade (``sparkify migrate``)."""

from __future__ import annotations

import os
from collections.abc import Callable

import dagster as dg

from sparkify_assets.commands.build import initialized_resource
from sparkify_assets.warehouse.interface import Warehouse
from sparkify_assets.warehouse.schema_versions import CURRENT_VERSION, SchemaVersionMismatch


def require_current_schema(connection: Warehouse) -> None:
    """Raises SchemaVersionMismatch (a SettingProblem: ``sparkify`` prints it and exits 2) when
    the warehouse is at another schema version than this release's; an empty one is fine."""
    found = connection.schema_version()
    if found is not None and found != CURRENT_VERSION:
        raise SchemaVersionMismatch(found, connection.location())


def migrate_warehouse(defs: dg.Definitions, log: Callable[[str], None]) -> list[int]:
    """Upgrades the warehouse of ``defs`` in place to this release's schema version; returns
    the versions applied."""
    warehouse = initialized_resource((defs.resources or {})["warehouse"])
    with warehouse.open(make_ready=False) as connection:
        before = connection.schema_version()
        applied: list[int] = connection.migrate(log)
        location = connection.location()
    if applied:
        log(f"warehouse {location}: schema version {before} -> {applied[-1]}")
    elif before is None:
        log(f"warehouse {location}: created at schema version {CURRENT_VERSION}")
    else:
        log(f"warehouse {location}: already at schema version {CURRENT_VERSION}")
    return applied


def migrate_dagster_instance(log: Callable[[str], None]) -> bool:
    """Upgrades the storage of the Dagster instance ``DAGSTER_HOME`` names, as ``dagster instance
    migrate`` does; False (and nothing done) when it names none."""
    if not os.environ.get("DAGSTER_HOME"):
        log("DAGSTER_HOME is not set: no Dagster instance to migrate")
        return False
    with dg.DagsterInstance.get() as instance:
        instance.upgrade(log)
    log(f"Dagster instance {os.environ['DAGSTER_HOME']}: storage up to date")
    return True
