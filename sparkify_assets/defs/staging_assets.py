"""Staging: the raw files, typed and loaded as they are (after quarantining bad records)."""

import dagster as dg

from sparkify_assets.defs.log_date_partitions import log_date_backfill_policy, log_date_partitions
from sparkify_assets.defs.resources import SourceResource, WarehouseResource
from sparkify_assets.defs.retry_policies import warehouse_retry_policy
from sparkify_assets.instance.loaded_source_versions import (
    CATALOG_DIGEST_METADATA,
    SOURCE_FILE_METADATA,
    SOURCE_VERSION_METADATA,
    loaded_files_observation,
)
from sparkify_assets.instance.project_instance import WAREHOUSE_POOL
from sparkify_assets.source.change_cursors import catalog_digest
from sparkify_assets.source.layout import SONG_PREFIX, is_song_key, log_date_of
from sparkify_assets.source.listing import list_source_files
from sparkify_assets.source.problems import reported_source_problems
from sparkify_assets.source.tree import SourceFileMissing
from sparkify_assets.warehouse.check_results import table_check_specs, table_materialization
from sparkify_assets.warehouse.interface import LoadReport, Warehouse
from sparkify_assets.warehouse.load_window import LoadWindow
from sparkify_assets.warehouse.table_documentation import table_definition_metadata

OWNERS = ["team:data-engineering"]
STAGING_GROUP = "staging"
# Longer windows record their files in the run's observation only: add_asset_metadata per day is
# quadratic in the window's length in Dagster 1.13 (~3 s for 2,859 days).
PER_DAY_METADATA_MAX_DAYS = 31


def _loaded_table(
    connection: Warehouse,
    table: str,
    window: LoadWindow | None,
    report: LoadReport,
    source: SourceResource,
    source_url: str,
    *,
    metadata: dict[str, object],
    side: Warehouse | None = None,
) -> dg.MaterializeResult:
    """A staging table's materialization after a load: the loader's row count (its row_count
    check verifies the table agrees), the quarantine share allowed, the source and ``metadata``."""
    return table_materialization(
        connection,
        table,
        window,
        side=side,
        known_row_count=report.rows_loaded,
        check_params={
            "loaded_rows": report.rows_loaded,
            "max_quarantine_share": source.max_quarantine_share,
        },
        metadata={
            "source": source_url,
            "rows_quarantined": report.rows_rejected,
            **metadata,
        },
    )


@dg.asset(
    name="staging_events",
    description=(
        "Every app event of the log dates loaded (all pages, not only song plays), typed, one row"
        " per log line. Bad lines go to load_quarantine with the reason. Partitioned by log date:"
        " materializing a date replaces exactly that date's rows."
    ),
    group_name=STAGING_GROUP,
    kinds={"s3", "postgres", "redshift"},
    owners=OWNERS,
    retry_policy=warehouse_retry_policy,
    pool=WAREHOUSE_POOL,  # runs writing the warehouse queue (dagster.yaml: one at a time)
    partitions_def=log_date_partitions,
    backfill_policy=log_date_backfill_policy,
    check_specs=table_check_specs("staging_events"),
    metadata=table_definition_metadata(
        "staging_events", loaded_by=("staging/staging_events", "postgres/copy", "redshift/staging")
    ),
)
def staging_events(
    context: dg.AssetExecutionContext, source: SourceResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    window = LoadWindow.from_time_window(*context.partition_time_window)
    tree = source.tree()
    with warehouse.open() as connection:
        try:
            with reported_source_problems(tree.url):  # no bucket, no access: fail at once
                report = connection.load_event_days(
                    tree, window, run_id=context.run.run_id, log=context.log.info
                )
        except SourceFileMissing as missing:
            raise dg.Failure(
                description=f"Cannot load log dates {window}: {missing}",
                metadata={"source": tree.url, "log_dates": str(window)},
                allow_retries=False,  # retrying cannot make the file appear
            ) from None
        # The files this run loaded, with versions and row counts, in one observation: the log
        # sensor's first tick recognises them (instance/loaded_source_versions.py).
        context.log_event(loaded_files_observation(tree.url, report.files))
        # On each day's own materialization too (not the window's count copied to every day),
        # for windows short enough: Dagster's per-partition metadata costs O(days) per call.
        if len(window.days()) <= PER_DAY_METADATA_MAX_DAYS:
            for file in report.files:
                day = log_date_of(file.key)
                if day is not None:
                    context.add_asset_metadata(
                        {
                            SOURCE_FILE_METADATA: file.key,
                            SOURCE_VERSION_METADATA: file.version,
                            "dagster/row_count": file.loaded,
                        },
                        partition_key=day.isoformat(),
                    )
        with warehouse.open_side(context.log.info) as side:  # the checks, two at a time
            return _loaded_table(
                connection,
                "staging_events",
                window,
                report,
                source,
                tree.url,
                side=side,
                metadata={"files_loaded": len(report.files)},
            )


@dg.asset(
    name="staging_songs",
    description=(
        "The song catalog: one row per song file under song_data/, typed. Files that are not"
        " one valid song object go to load_quarantine. Not dated: each materialization replaces"
        " it whole."
    ),
    group_name=STAGING_GROUP,
    kinds={"s3", "postgres", "redshift"},
    owners=OWNERS,
    retry_policy=warehouse_retry_policy,
    pool=WAREHOUSE_POOL,  # runs writing the warehouse queue (dagster.yaml: one at a time)
    check_specs=table_check_specs("staging_songs"),
    metadata=table_definition_metadata(
        "staging_songs", loaded_by=("staging/staging_songs", "postgres/copy", "redshift/staging")
    ),
)
def staging_songs(
    context: dg.AssetExecutionContext, source: SourceResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    tree = source.tree()
    with reported_source_problems(tree.url):  # no bucket, no access: fail at once
        # What the song sensor compares on its first tick; listed before the load reads the files.
        digest, song_files = catalog_digest(
            (file.key, file.version)
            for file in list_source_files(tree, SONG_PREFIX)
            if is_song_key(file.key)
        )
    with warehouse.open() as connection:
        with reported_source_problems(tree.url):  # no bucket, no access: fail at once
            report = connection.load_song_catalog(
                tree, run_id=context.run.run_id, log=context.log.info
            )
        return _loaded_table(
            connection,
            "staging_songs",
            None,
            report,
            source,
            tree.url,
            metadata={CATALOG_DIGEST_METADATA: digest, "song_files": song_files},
        )
