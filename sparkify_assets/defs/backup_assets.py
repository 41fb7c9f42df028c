"""``warehouse_backup[day]``: a log date's rows, and a snapshot of the rest, as Parquet files under
``SPARKIFY_BACKUP_URL``; it follows the star tables only when that is set (docs/backups.md)."""

from datetime import UTC, datetime
from typing import Any

import dagster as dg

from sparkify_assets.defs.backup_resource import BackupResource, backups_configured
from sparkify_assets.defs.log_date_partitions import log_date_backfill_policy, log_date_partitions
from sparkify_assets.defs.resources import WarehouseResource
from sparkify_assets.defs.retry_policies import warehouse_retry_policy
from sparkify_assets.defs.star_schema_automation import rebuild_after_upstream_change
from sparkify_assets.warehouse.backup.backup_and_restore import BackupReport, back_up
from sparkify_assets.warehouse.backup.datasets import BackupError
from sparkify_assets.warehouse.backup.location import BackupLocationError
from sparkify_assets.warehouse.load_window import LoadWindow

BACKUP_ASSET = "warehouse_backup"
ROW_COUNT_CHECK = "row_counts_match_warehouse"
OWNERS = ["team:data-engineering"]
# The catalog tables reach the backup through songplays (rebuilt after them): reacting to them
# directly would back every day up twice.
_NOT_TRIGGERING = ["staging_songs", "songs", "artists"]


def _metadata(report: BackupReport, url: str, window: LoadWindow) -> dict[str, Any]:
    totals = report.per_dataset()
    rows = "\n".join(
        f"| {name} | {t['files']} | {t['rows']:,} | {t['bytes']:,} |" for name, t in totals.items()
    )
    return {
        "backup_url": url,
        "log_dates": str(window),
        "snapshot_date": report.snapshot_date.isoformat(),
        "files_written": sum(t["files"] for t in totals.values()),
        "rows_written": sum(t["rows"] for t in totals.values()),
        "bytes_written": sum(t["bytes"] for t in totals.values()),
        "datasets": dg.MetadataValue.md(
            "| data set | files | rows | bytes |\n|---|---:|---:|---:|\n" + rows
        ),
        "snapshots_pruned": [d.isoformat() for d in report.pruned_snapshots],
    }


@dg.asset(
    name=BACKUP_ASSET,
    description=(
        "Parquet backup of the warehouse in SPARKIFY_BACKUP_URL (S3 or a directory), Hive"
        " layout: each log date's songplays, time, staging_events and event quarantine under"
        " <table>/log_date=…, and a snapshot of users, songs, artists, staging_songs and the song"
        " quarantine under <table>/snapshot_date=<run date>. Re-materializing a day replaces its"
        " files. Inert (and not automated) while SPARKIFY_BACKUP_URL is unset."
    ),
    group_name="backup",
    kinds={"s3", "parquet"},
    owners=OWNERS,
    retry_policy=warehouse_retry_policy,
    deps=["staging_events", "staging_songs", "users", "songs", "artists", "songplays", "time"],
    automation_condition=(
        rebuild_after_upstream_change(ignoring=_NOT_TRIGGERING) if backups_configured() else None
    ),
    partitions_def=log_date_partitions,
    backfill_policy=log_date_backfill_policy,
    check_specs=[
        dg.AssetCheckSpec(
            name=ROW_COUNT_CHECK,
            asset=BACKUP_ASSET,
            description=(
                "Every data set's Parquet files (their footers, read back after writing) hold as"
                " many rows as the warehouse did for that day (or snapshot), counted in the same"
                " snapshot as the export."
            ),
            blocking=True,
        )
    ],
)
def warehouse_backup(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, backup: BackupResource
) -> dg.MaterializeResult:
    if not backup.url:
        raise dg.Failure(
            description=(
                "SPARKIFY_BACKUP_URL is not set: there is nowhere to back up to. Set it to"
                " s3://bucket/prefix or an existing directory (docs/backups.md)."
            ),
            allow_retries=False,
        )
    window = LoadWindow.from_time_window(*context.partition_time_window)
    try:
        location = backup.location()
        with warehouse.open() as connection:
            report = back_up(
                connection,
                location,
                window.days(),
                snapshot_date=datetime.now(UTC).date(),
                snapshot_retention=backup.snapshot_retention,
                log=context.log.info,
            )
    except (BackupLocationError, BackupError) as error:
        raise dg.Failure(description=str(error), allow_retries=False) from None
    mismatches = report.mismatches()
    return dg.MaterializeResult(
        metadata=_metadata(report, location.url, window),
        check_results=[
            dg.AssetCheckResult(
                check_name=ROW_COUNT_CHECK,
                passed=not mismatches,
                metadata={
                    "partitions_checked": len(report.parts),
                    "mismatches": dg.MetadataValue.json(mismatches[:100]),
                },
            )
        ],
    )
