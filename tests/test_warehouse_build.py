"""The whole warehouse built through Dagster on a real PostgreSQL, compared with an independent
reference computed from the raw files."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from sparkify_assets.commands.build import build_warehouse
from sparkify_assets.definitions import defs
from sparkify_assets.defs.asset_groups import CATALOG_ASSETS, LOG_DATE_ASSETS
from sparkify_assets.defs.log_date_partitions import contiguous_ranges, partition_range_tags
from sparkify_assets.sample_data.generator import SampleSpec, write_sample_source
from sparkify_assets.source.layout import log_key_for
from sparkify_assets.source.open_tree import open_source_tree
from sparkify_assets.warehouse.load_window import LoadWindow
from sparkify_assets.warehouse.postgres.engine import PostgresWarehouse
from sparkify_assets.warehouse.tables import WAREHOUSE_TABLES
from tests.conftest import SMALL_SPEC, resources_for
from tests.reference_warehouse import reference_warehouse
from tests.warehouse_state import assert_matches_reference, warehouse_state

ALL_DAYS = [
    d.isoformat()
    for d in (date.fromordinal(SMALL_SPEC.start.toordinal() + n) for n in range(SMALL_SPEC.days))
]


def materialize(
    selection: tuple[str, ...], resources: dict[str, object], **kwargs: object
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        list(defs.assets), selection=list(selection), resources=resources, **kwargs
    )  # type: ignore[arg-type]


def test_full_build_matches_reference_and_passes_every_check(
    warehouse_url: str, small_source: Path
) -> None:
    outcome = build_warehouse(defs, resources=resources_for(warehouse_url, small_source))

    assert outcome.succeeded
    assert [d.isoformat() for d in outcome.log_dates] == ALL_DAYS
    assert len(outcome.runs) == 3  # the catalog, all six days in one run, the analytics
    assert_matches_reference(warehouse_url, reference_warehouse(small_source))

    evaluated = {(e.asset_key.to_user_string(), e.check_name) for e in outcome.check_evaluations}
    declared = {
        (k.asset_key.to_user_string(), k.name)
        for k in defs.resolve_asset_graph().asset_check_keys
        if k.asset_key.to_user_string() != "warehouse_backup"  # built only with a backup URL
    }
    assert evaluated == declared
    assert all(e.passed for e in outcome.check_evaluations)


def test_materialization_and_definition_metadata(warehouse_url: str, small_source: Path) -> None:
    result = materialize(CATALOG_ASSETS, resources_for(warehouse_url, small_source))
    [songs] = [
        m
        for m in result.get_asset_materialization_events()
        if m.asset_key.to_user_string() == "songs"
    ]
    metadata = songs.materialization.metadata
    assert metadata["dagster/row_count"].value == len(reference_warehouse(small_source).songs)
    assert metadata["dagster/table_name"].value.endswith(".public.songs")
    assert "dagster/column_schema" not in metadata  # definition metadata, not repeated per run

    # The documented schema of every asset is what the database really has (no drift between the
    # DDL, the COMMENT ON files and the parsed definition metadata).
    graph = defs.resolve_asset_graph()
    with PostgresWarehouse(warehouse_url) as warehouse:
        for key in graph.get_all_asset_keys():
            table = key.to_user_string()
            if table not in WAREHOUSE_TABLES:
                continue
            documented = graph.get(key).metadata["dagster/column_schema"]
            actual = warehouse.describe_table(table)
            assert [(c.name, c.description) for c in documented.columns] == [
                (c.name, c.description) for c in actual.columns
            ], table
            assert [c.constraints.nullable for c in documented.columns] == [
                not c.not_null for c in actual.columns
            ], table
            assert all(c.description for c in documented.columns)


def test_rematerializing_a_partition_changes_nothing(
    warehouse_url: str, small_source: Path
) -> None:
    resources = resources_for(warehouse_url, small_source)
    assert build_warehouse(defs, resources=resources).succeeded
    before = warehouse_state(warehouse_url)

    again = materialize(LOG_DATE_ASSETS, resources, partition_key=ALL_DAYS[2])
    assert again.success
    assert warehouse_state(warehouse_url) == before


@pytest.mark.parametrize("order", ["reverse", "shuffled"])
def test_loading_days_out_of_order_gives_the_same_tables(
    warehouse_url: str, small_source: Path, order: str
) -> None:
    resources = resources_for(warehouse_url, small_source)
    assert materialize(CATALOG_ASSETS, resources).success
    days = (
        list(reversed(ALL_DAYS))
        if order == "reverse"
        else random.Random(3).sample(ALL_DAYS, k=len(ALL_DAYS))
    )
    for day in days:
        assert materialize(LOG_DATE_ASSETS, resources, partition_key=day).success
    # A day reloaded after later days must not move users back to an older level.
    assert materialize(LOG_DATE_ASSETS, resources, partition_key=ALL_DAYS[0]).success

    assert_matches_reference(warehouse_url, reference_warehouse(small_source))


def test_partial_load_holds_exactly_the_loaded_days(warehouse_url: str, small_source: Path) -> None:
    resources = resources_for(warehouse_url, small_source)
    assert materialize(CATALOG_ASSETS, resources).success
    for day in (ALL_DAYS[4], ALL_DAYS[1]):
        assert materialize(LOG_DATE_ASSETS, resources, partition_key=day).success

    assert_matches_reference(
        warehouse_url, reference_warehouse(small_source, days={ALL_DAYS[1], ALL_DAYS[4]})
    )


def test_missing_log_file_fails_with_a_clear_error_and_changes_nothing(
    warehouse_url: str, small_source: Path
) -> None:
    resources = resources_for(warehouse_url, small_source)
    result = materialize(
        ("staging_events",), resources, partition_key="2019-03-01", raise_on_error=False
    )

    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    message = failure.step_failure_data.error.message  # type: ignore[union-attr]
    assert "no log file for 2019-03-01" in message
    assert "2019/03/2019-03-01-events.json" in message


def test_contiguous_ranges() -> None:
    days = [date(2018, 11, d) for d in (5, 1, 2, 3, 7, 8, 3)]
    assert contiguous_ranges(days) == [
        (date(2018, 11, 1), date(2018, 11, 3)),
        (date(2018, 11, 5), date(2018, 11, 5)),
        (date(2018, 11, 7), date(2018, 11, 8)),
    ]


def test_long_ranges_are_split_to_bound_a_runs_size() -> None:
    days = [date.fromordinal(date(2018, 11, 1).toordinal() + n) for n in range(800)]
    ranges = contiguous_ranges(days, max_days=366)
    assert [(last - first).days + 1 for first, last in ranges] == [366, 366, 68]
    assert ranges[0][0] == days[0] and ranges[-1][1] == days[-1]
    assert all(b[0] - a[1] == timedelta(days=1) for a, b in itertools.pairwise(ranges))


def test_a_build_loads_more_than_a_year_of_days_in_one_run(
    warehouse_url: str, tmp_path: Path
) -> None:
    """`sparkify build` does not split a contiguous range (it used to, above 366 days): the
    catalog, every day, the analytics; three runs."""
    spec = SampleSpec(seed=11, days=400, events_per_day=2, users=5, catalog_songs=8)
    write_sample_source(tmp_path, spec)
    outcome = build_warehouse(defs, resources=resources_for(warehouse_url, tmp_path))

    assert outcome.succeeded
    assert len(outcome.log_dates) == spec.days
    assert len(outcome.runs) == 3
    assert {"staging_events", "users", "songplays", "time"} <= set(outcome.runs[1].step_seconds)
    assert_matches_reference(warehouse_url, reference_warehouse(tmp_path))


def test_a_range_run_gives_each_day_its_own_row_count_and_source_file(
    warehouse_url: str, small_source: Path
) -> None:
    """Dagster copies a range run's metadata to each partition: the window's count must not show
    up as each day's dagster/row_count. staging_events records each day's own count, file and
    version on that day's materialization; a one-day run's count is that day's."""
    resources = resources_for(warehouse_url, small_source)
    assert materialize(CATALOG_ASSETS, resources).success
    ranged = materialize(
        ("staging_events",),
        resources,
        tags=partition_range_tags(SMALL_SPEC.start, SMALL_SPEC.start + timedelta(days=2)),
    )
    one_day = materialize(("staging_events",), resources, partition_key=ALL_DAYS[0])
    first_day_rows = reference_warehouse(small_source, days={ALL_DAYS[0]}).staging_events

    ranged_events = ranged.get_asset_materialization_events()
    assert len(ranged_events) == 3  # one per day
    for event in ranged_events:
        day = str(event.partition)
        metadata = event.materialization.metadata
        assert metadata["dagster/row_count"].value == (
            reference_warehouse(small_source, days={day}).staging_events
        )
        assert metadata["rows_in_run_window"].value > first_day_rows
        assert metadata["source_file"].value == log_key_for(date.fromisoformat(day))
        assert metadata["source_version"].value  # the version listed before reading
    star = materialize(
        ("users",),
        resources,
        tags=partition_range_tags(SMALL_SPEC.start, SMALL_SPEC.start + timedelta(days=2)),
    )
    for event in star.get_asset_materialization_events():
        assert "dagster/row_count" not in event.materialization.metadata
    [single] = one_day.get_asset_materialization_events()
    assert single.materialization.metadata["dagster/row_count"].value == first_day_rows


def test_a_load_failing_midway_leaves_the_previous_rows(
    warehouse_url: str, small_source: Path
) -> None:
    """The database refuses a row of the second day of a three-day load: the whole load rolls
    back, and the first day's already-copied rows are not left behind."""
    resources = resources_for(warehouse_url, small_source)
    assert build_warehouse(defs, resources=resources).succeeded
    before = warehouse_state(warehouse_url)
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        connection.execute(
            "CREATE FUNCTION refuse_second_day() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN RAISE EXCEPTION 'refused by test trigger'; END $$"
        )
        connection.execute(
            "CREATE TRIGGER refuse_second_day BEFORE INSERT ON staging_events FOR EACH ROW"
            f" WHEN (NEW.log_date = DATE '{ALL_DAYS[1]}') EXECUTE FUNCTION refuse_second_day()"
        )

    result = materialize(
        ("staging_events",),
        resources,
        tags={
            "dagster/asset_partition_range_start": ALL_DAYS[0],
            "dagster/asset_partition_range_end": ALL_DAYS[2],
        },
        raise_on_error=False,
    )

    assert not result.success
    assert warehouse_state(warehouse_url) == before


def test_blocking_check_failure_stops_downstream(warehouse_url: str, small_source: Path) -> None:
    """users.unique_ids is blocking: when it fails, songplays is not materialized in that run."""
    resources = resources_for(warehouse_url, small_source)
    assert build_warehouse(defs, resources=resources).succeeded
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        connection.execute("ALTER TABLE users DROP CONSTRAINT users_pkey")
        # Duplicate a user who has no event on the last day, so that day's reload keeps the copy.
        connection.execute(
            "INSERT INTO users SELECT * FROM users WHERE user_id = ("
            " SELECT MIN(user_id) FROM users WHERE user_id NOT IN ("
            "  SELECT user_id FROM staging_events WHERE log_date = %s AND user_id IS NOT NULL))",
            (date.fromisoformat(ALL_DAYS[-1]),),
        )
    result = materialize(
        ("users", "songplays"), resources, partition_key=ALL_DAYS[-1], raise_on_error=False
    )

    [unique] = [e for e in result.get_asset_check_evaluations() if e.check_name == "unique_ids"]
    assert not unique.passed
    assert unique.metadata["failures"].value == 1
    materialized = {m.asset_key.to_user_string() for m in result.get_asset_materialization_events()}
    assert "songplays" not in materialized


def test_statistics_are_refreshed_by_a_large_load_not_by_a_day_on_a_long_history(
    warehouse_url: str, small_source: Path
) -> None:
    """ANALYZE samples the whole table: run after every day, each day would cost more as history
    grows. A load refreshes the statistics only when it is a hundredth of the known rows or more."""
    tree = open_source_tree(str(small_source))
    days = [date.fromisoformat(d) for d in ALL_DAYS]

    def estimated_rows() -> float:
        with psycopg.connect(warehouse_url) as connection:
            row = connection.execute(
                "SELECT reltuples FROM pg_class WHERE oid = 'staging_events'::regclass"
            ).fetchone()
        assert row is not None
        return float(row[0])

    with PostgresWarehouse(warehouse_url) as warehouse:
        warehouse.ensure_tables()
        assert estimated_rows() < 1  # never analyzed
        loaded = warehouse.load_event_days(
            tree, LoadWindow(days[0], days[-1]), run_id="first", log=lambda _: None
        )
        assert estimated_rows() == loaded.rows_loaded  # the first load is analyzed

        with psycopg.connect(warehouse_url, autocommit=True) as connection:
            # As if the statistics knew of a long history (the test server's user is a superuser).
            connection.execute(
                "UPDATE pg_class SET reltuples = 1e7 WHERE oid = 'staging_events'::regclass"
            )
        warehouse.load_event_days(
            tree, LoadWindow.single_day(days[-1]), run_id="day", log=lambda _: None
        )
        assert estimated_rows() == 1e7  # one day on ten million rows: not analyzed again


def test_star_tables_get_statistics_after_a_large_replacement_not_after_a_day(
    warehouse_url: str, small_source: Path
) -> None:
    """The checks and the analytics questions read the star tables right after their transform:
    without statistics PostgreSQL plans a freshly filled table as a handful of rows (a monthly
    ranking on 1M plays took 3.8 s instead of 0.4 s). A replacement refreshes them when it changes
    a hundredth of the known rows or more; a day on a long history does not."""
    resources = resources_for(warehouse_url, small_source)
    tables = ("users", "songplays", "time")

    def estimated_rows() -> dict[str, float]:
        with psycopg.connect(warehouse_url) as connection:
            rows = connection.execute(
                "SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s)", (list(tables),)
            ).fetchall()
        return {name: float(count) for name, count in rows}

    def counted() -> dict[str, float]:
        with psycopg.connect(warehouse_url) as connection:
            return {
                t: float(connection.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0])  # type: ignore[index]
                for t in tables
            }

    assert materialize(CATALOG_ASSETS, resources).success
    assert materialize(
        LOG_DATE_ASSETS,
        resources,
        tags=partition_range_tags(
            date.fromisoformat(ALL_DAYS[0]), date.fromisoformat(ALL_DAYS[-1])
        ),
    ).success
    assert estimated_rows() == counted()  # analyzed within the transform's transaction
    assert all(count > 0 for count in counted().values())

    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        # As if the statistics knew of a long history (the test server's user is a superuser).
        connection.execute(
            "UPDATE pg_class SET reltuples = 1e7 WHERE relname = ANY(%s)", (list(tables),)
        )
    assert materialize(LOG_DATE_ASSETS, resources, partition_key=ALL_DAYS[-1]).success
    assert estimated_rows() == dict.fromkeys(tables, 1e7)  # one day on 10M rows: not analyzed
