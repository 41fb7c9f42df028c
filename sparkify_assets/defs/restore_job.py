"""``warehouse_restore``: the warehouse, or a range of log dates, rebuilt from a backup; checked
before anything changes, recorded as materializations afterwards (docs/backups.md, "Restoring")."""

from datetime import date

import dagster as dg
from pydantic import Field

from sparkify_assets.defs.backup_assets import BACKUP_ASSET
from sparkify_assets.defs.backup_resource import BackupResource
from sparkify_assets.defs.resources import SourceResource, WarehouseResource
from sparkify_assets.warehouse.backup.backup_and_restore import plan_restore, restore
from sparkify_assets.warehouse.backup.datasets import BackupError
from sparkify_assets.warehouse.backup.location import BackupLocationError
from sparkify_assets.warehouse.backup.restore_plan import RestorePlan
from sparkify_assets.warehouse.check_results import run_table_checks

RESTORE_JOB = "warehouse_restore"
# The assets reported per restored day, staging first, so each table's update follows its
# dependencies' (what the automation expects); users only when the snapshot restored it.
_DAILY_ASSETS_WITH_SNAPSHOT = ("staging_events", "users", "songplays", "time")
_DAILY_ASSETS = ("staging_events", "songplays", "time")
_CATALOG_ASSETS = ("staging_songs", "songs", "artists")


class RestoreConfig(dg.Config):
    backup_url: str = Field(
        default="", description="Where the backup is; empty = SPARKIFY_BACKUP_URL."
    )
    first_day: str = Field(
        default="", description="First log date to restore (YYYY-MM-DD); empty = every day."
    )
    last_day: str = Field(
        default="", description="Last log date to restore (YYYY-MM-DD), with first_day."
    )
    snapshot_date: str = Field(
        default="", description="Snapshot of the dimension tables to restore; empty = newest."
    )
    restore_snapshot: bool | None = Field(
        default=None,
        description=(
            "Restore users, songs, artists, staging_songs and the song quarantine from the"
            " snapshot: default yes for a full restore, no for a range (the dimensions then stay"
            " as they are and users is rebuilt by the automation from the restored events)."
        ),
    )


def _day(value: str, name: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise dg.Failure(
            description=f"{name} must be a date written YYYY-MM-DD, not {value!r}",
            allow_retries=False,
        ) from None


def _reported_assets(plan: RestorePlan, *, include_backup: bool) -> list[dg.AssetMaterialization]:
    """The materializations a restore reports, each table after its dependencies."""
    events = []
    described = {"description": "restored from a backup (warehouse_restore)"}
    if plan.snapshot_date:
        for asset in _CATALOG_ASSETS:
            events.append(
                dg.AssetMaterialization(
                    asset_key=asset,
                    description=described["description"],
                    metadata={"snapshot_date": plan.snapshot_date.isoformat()},
                )
            )
    daily = _DAILY_ASSETS_WITH_SNAPSHOT if plan.snapshot_date else _DAILY_ASSETS
    if include_backup:
        daily = (*daily, BACKUP_ASSET)
    for asset in daily:
        for day in plan.days:
            events.append(
                dg.AssetMaterialization(
                    asset_key=asset, partition=day.isoformat(), description=described["description"]
                )
            )
    return events


@dg.op(
    description=(
        "Checks the backup, replaces the warehouse's rows (a range of log dates, or all of it)"
        " with it in one transaction, runs the tables' checks and reports the restored"
        " partitions as materializations."
    ),
)
def restore_warehouse_from_backup(
    context: dg.OpExecutionContext,
    config: RestoreConfig,
    warehouse: WarehouseResource,
    backup: BackupResource,
    source: SourceResource,
) -> dg.Output[dict[str, int]]:
    first_day = _day(config.first_day, "first_day")
    last_day = _day(config.last_day, "last_day")
    snapshot_date = _day(config.snapshot_date, "snapshot_date")
    full = first_day is None and last_day is None
    restore_snapshot = full if config.restore_snapshot is None else config.restore_snapshot
    try:
        location = backup.location(config.backup_url)
        plan = plan_restore(
            location,
            first_day=first_day,
            last_day=last_day,
            snapshot_date=snapshot_date,
            restore_snapshot=restore_snapshot,
        )
        context.log.info(
            f"restoring {len(plan.days)} log date(s)"
            + (f" and the snapshot of {plan.snapshot_date}" if plan.snapshot_date else "")
            + f" from {location.url}"
        )
        with warehouse.open() as connection:
            restored = restore(connection, location, plan, log=context.log.info)
            params: dict[str, object] = dict(plan.window.sql_params()) if plan.window else {}
            params["max_quarantine_share"] = source.max_quarantine_share
            checks = []
            for table in plan.tables:
                if table == "load_quarantine":  # no checks of its own
                    continue
                checks += run_table_checks(
                    connection, table, {**params, "loaded_rows": restored[table]}
                )
    except (BackupLocationError, BackupError) as error:
        raise dg.Failure(description=str(error), allow_retries=False) from None

    same_location = bool(backup.url) and location.url == backup.location().url
    for event in _reported_assets(plan, include_backup=same_location):
        context.log_event(event)
    for check in checks:
        context.log_event(
            dg.AssetCheckEvaluation(
                asset_key=check.asset_key,  # type: ignore[arg-type]
                check_name=check.check_name or "",
                passed=check.passed,
                metadata=check.metadata,
                severity=check.severity,
                description=check.description,
            )
        )
    failed = [
        f"{c.asset_key.to_user_string()}.{c.check_name}"  # type: ignore[union-attr]
        for c in checks
        if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR
    ]
    if failed:
        raise dg.Failure(
            description=f"the restored warehouse fails its checks: {', '.join(failed)}",
            allow_retries=False,
        )
    return dg.Output(
        restored,
        metadata={
            "backup_url": location.url,
            "log_dates": len(plan.days),
            "first_log_date": plan.days[0].isoformat() if plan.days else "",
            "last_log_date": plan.days[-1].isoformat() if plan.days else "",
            "snapshot_date": plan.snapshot_date.isoformat() if plan.snapshot_date else "",
            "rows_restored": dg.MetadataValue.json(restored),
        },
    )


@dg.job(
    name=RESTORE_JOB,
    description=(
        "Rebuilds the warehouse, or a range of log dates, from the Parquet backup"
        " (docs/backups.md); idempotent: running it twice gives the same tables."
    ),
    executor_def=dg.in_process_executor,
    tags={"sparkify/kind": "restore"},
)
def warehouse_restore() -> None:
    restore_warehouse_from_backup()
