"""The star schema's assets, from one list: each table rebuilt by ``sql/transform/<table>.sql``
(a delete and an insert in one transaction) on the log dates of the run, or whole."""

from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg

from sparkify_assets.defs.log_date_partitions import log_date_backfill_policy, log_date_partitions
from sparkify_assets.defs.resources import WarehouseResource
from sparkify_assets.defs.retry_policies import warehouse_retry_policy
from sparkify_assets.defs.star_schema_automation import rebuild_after_upstream_change
from sparkify_assets.instance.project_instance import WAREHOUSE_POOL
from sparkify_assets.warehouse.check_results import table_check_specs, table_materialization
from sparkify_assets.warehouse.interface import transform_statements
from sparkify_assets.warehouse.load_window import LoadWindow
from sparkify_assets.warehouse.table_documentation import table_definition_metadata

OWNERS = ["team:data-engineering"]
STAR_GROUP = "star_schema"
KINDS = {"postgres", "redshift"}


def _replace_table(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    table: str,
    window: LoadWindow | None,
) -> dg.MaterializeResult:
    with warehouse.open() as connection:
        connection.replace_rows(
            table,
            transform_statements(table, connection.engine),
            window.sql_params() if window else {},
        )
        with warehouse.open_side(context.log.info) as side:  # the checks, two at a time
            return table_materialization(connection, table, window, side=side)


def _definition_metadata(table: str) -> dict[str, object]:
    return table_definition_metadata(table, loaded_by=(f"transform/{table}",))


@dataclass(frozen=True)
class StarTable:
    """One table of the star schema: what it holds, what it is built from, and whether it is
    partitioned by log date (else rebuilt whole from the catalog)."""

    name: str
    description: str
    deps: Sequence[str]
    by_log_date: bool
    automation_ignores: Sequence[str] = ()


STAR_TABLES = (
    StarTable(
        "songplays",
        "Fact table: one row per song play (a NextSong event), with who played what, when, where"
        " and on which level. song_id/artist_id are set when the catalog has the song (same title,"
        " artist and duration within 0.01 s), NULL otherwise — the play still counts.",
        deps=("staging_events", "staging_songs", "users", "songs", "artists"),
        by_log_date=True,
        automation_ignores=("staging_songs",),
    ),
    StarTable(
        "users",
        "Dimension: one row per identified user, with name, gender and current level (free/paid)"
        " taken from their most recent event — correct whatever order log dates are loaded in.",
        deps=("staging_events",),
        by_log_date=True,
    ),
    StarTable(
        "time",
        "Dimension: one row per distinct song-play start time, with hour, day, ISO week, month,"
        " year and weekday (0 = Sunday) for grouping plays by time.",
        deps=("songplays",),
        by_log_date=True,
    ),
    StarTable(
        "songs",
        "Dimension: one row per song of the catalog (title, artist, year, duration).",
        deps=("staging_songs",),
        by_log_date=False,
    ),
    StarTable(
        "artists",
        "Dimension: one row per artist of the catalog (name, location, coordinates); where song"
        " files disagree, the most complete entry wins.",
        deps=("staging_songs",),
        by_log_date=False,
    ),
)


def star_table_asset(table: StarTable) -> dg.AssetsDefinition:
    """The asset that rebuilds ``table``, with its checks (sql/checks/<table>.sql)."""

    @dg.asset(
        name=table.name,
        description=table.description,
        group_name=STAR_GROUP,
        kinds=KINDS,
        owners=OWNERS,
        retry_policy=warehouse_retry_policy,
        pool=WAREHOUSE_POOL,  # runs writing the warehouse queue (dagster.yaml: one at a time)
        deps=list(table.deps),
        automation_condition=rebuild_after_upstream_change(ignoring=table.automation_ignores),
        partitions_def=log_date_partitions if table.by_log_date else None,
        backfill_policy=log_date_backfill_policy if table.by_log_date else None,
        check_specs=table_check_specs(table.name),
        metadata=_definition_metadata(table.name),
    )
    def rebuild(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        window = (
            LoadWindow.from_time_window(*context.partition_time_window)
            if table.by_log_date
            else None
        )
        return _replace_table(context, warehouse, table.name, window)

    return rebuild


star_assets = [star_table_asset(table) for table in STAR_TABLES]
