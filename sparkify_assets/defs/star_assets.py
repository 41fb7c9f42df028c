"""The star schema: the songplays fact and the users, songs, artists and time dimensions.

Each is rebuilt by the set-based SQL in ``sql/transform/<table>.sql`` (a delete and an insert in one
transaction), the same files on PostgreSQL and Redshift except where an engine keeps a measured
variant in ``sql/<engine>/transform/`` (PostgreSQL's users).
"""

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
    warehouse: WarehouseResource, table: str, window: LoadWindow | None
) -> dg.MaterializeResult:
    with warehouse.open() as connection:
        connection.replace_rows(
            table,
            transform_statements(table, connection.engine),
            window.sql_params() if window else {},
        )
        return table_materialization(connection, table, window)


def _definition_metadata(table: str) -> dict[str, object]:
    return table_definition_metadata(table, loaded_by=(f"transform/{table}",))


@dg.asset(
    name="songplays",
    description=(
        "Fact table: one row per song play (a NextSong event), with who played what, when, where"
        " and on which level. song_id/artist_id are set when the catalog has the song (same title,"
        " artist and duration within 0.01 s), NULL otherwise — the play still counts."
    ),
    group_name=STAR_GROUP,
    kinds=KINDS,
    owners=OWNERS,
    retry_policy=warehouse_retry_policy,
    pool=WAREHOUSE_POOL,  # runs writing the warehouse queue (dagster.yaml: one at a time)
    deps=["staging_events", "staging_songs", "users", "songs", "artists"],
    automation_condition=rebuild_after_upstream_change(ignoring=["staging_songs"]),
    partitions_def=log_date_partitions,
    backfill_policy=log_date_backfill_policy,
    check_specs=table_check_specs("songplays"),
    metadata=_definition_metadata("songplays"),
)
def songplays(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    return _replace_table(
        warehouse, "songplays", LoadWindow.from_time_window(*context.partition_time_window)
    )


@dg.asset(
    name="users",
    description=(
        "Dimension: one row per identified user, with name, gender and current level (free/paid)"
        " taken from their most recent event — correct whatever order log dates are loaded in."
    ),
    group_name=STAR_GROUP,
    kinds=KINDS,
    owners=OWNERS,
    retry_policy=warehouse_retry_policy,
    pool=WAREHOUSE_POOL,  # runs writing the warehouse queue (dagster.yaml: one at a time)
    deps=["staging_events"],
    automation_condition=rebuild_after_upstream_change(),
    partitions_def=log_date_partitions,
    backfill_policy=log_date_backfill_policy,
    check_specs=table_check_specs("users"),
    metadata=_definition_metadata("users"),
)
def users(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    return _replace_table(
        warehouse, "users", LoadWindow.from_time_window(*context.partition_time_window)
    )


@dg.asset(
    name="time",
    description=(
        "Dimension: one row per distinct song-play start time, with hour, day, ISO week, month,"
        " year and weekday (0 = Sunday) for grouping plays by time."
    ),
    group_name=STAR_GROUP,
    kinds=KINDS,
    owners=OWNERS,
    retry_policy=warehouse_retry_policy,
    pool=WAREHOUSE_POOL,  # runs writing the warehouse queue (dagster.yaml: one at a time)
    deps=["songplays"],
    automation_condition=rebuild_after_upstream_change(),
    partitions_def=log_date_partitions,
    backfill_policy=log_date_backfill_policy,
    check_specs=table_check_specs("time"),
    metadata=_definition_metadata("time"),
)
def time(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    return _replace_table(
        warehouse, "time", LoadWindow.from_time_window(*context.partition_time_window)
    )


@dg.asset(
    name="songs",
    description="Dimension: one row per song of the catalog (title, artist, year, duration).",
    group_name=STAR_GROUP,
    kinds=KINDS,
    owners=OWNERS,
    retry_policy=warehouse_retry_policy,
    pool=WAREHOUSE_POOL,  # runs writing the warehouse queue (dagster.yaml: one at a time)
    deps=["staging_songs"],
    automation_condition=rebuild_after_upstream_change(),
    check_specs=table_check_specs("songs"),
    metadata=_definition_metadata("songs"),
)
def songs(warehouse: WarehouseResource) -> dg.MaterializeResult:
    return _replace_table(warehouse, "songs", None)


@dg.asset(
    name="artists",
    description=(
        "Dimension: one row per artist of the catalog (name, location, coordinates); where song"
        " files disagree, the most complete entry wins."
    ),
    group_name=STAR_GROUP,
    kinds=KINDS,
    owners=OWNERS,
    retry_policy=warehouse_retry_policy,
    pool=WAREHOUSE_POOL,  # runs writing the warehouse queue (dagster.yaml: one at a time)
    deps=["staging_songs"],
    automation_condition=rebuild_after_upstream_change(),
    check_specs=table_check_specs("artists"),
    metadata=_definition_metadata("artists"),
)
def artists(warehouse: WarehouseResource) -> dg.MaterializeResult:
    return _replace_table(warehouse, "artists", None)
