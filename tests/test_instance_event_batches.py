"""The project's event log writes a batch of asset events (a range run's one per day and asset) in
two statements of its own: the rows must be exactly those dagster-postgres' own batch write gives,
and what Dagster reads from them (partitions materialized, latest events, indexed tags) the same."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy
from dagster_postgres import PostgresEventLogStorage

from sparkify_assets.definitions import defs
from sparkify_assets.defs.asset_groups import CATALOG_ASSETS, LOG_DATE_ASSETS
from sparkify_assets.defs.log_date_partitions import partition_range_tags
from sparkify_assets.instance.check_planning_event_log import CheckPlanningEventLogStorage
from sparkify_assets.instance.project_instance import prepare_instance
from tests.conftest import SMALL_SPEC, new_database, resources_for

LAST_DAY = SMALL_SPEC.start + timedelta(days=SMALL_SPEC.days - 1)


def _storage_url(libpq_url: str) -> str:
    return libpq_url.replace("postgresql://", "postgresql+psycopg2://", 1)


@pytest.fixture
def range_run_events(
    dagster_storage_url: str,
    warehouse_url: str,
    small_source: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[list[dg.EventLogEntry]]:
    """The asset events a range run of every log-date asset wrote on the project's instance."""
    monkeypatch.setenv("SPARKIFY_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SPARKIFY_DAGSTER_STORAGE_URL", dagster_storage_url)
    resources = resources_for(warehouse_url, small_source)
    assets = [a for a in defs.assets or () if isinstance(a, dg.AssetsDefinition)]
    with dg.DagsterInstance.from_config(str(prepare_instance())) as instance:
        assert dg.materialize(
            assets, selection=list(CATALOG_ASSETS), resources=resources, instance=instance
        ).success
        ranged = dg.materialize(
            assets,
            selection=list(LOG_DATE_ASSETS),
            resources=resources,
            instance=instance,
            tags=partition_range_tags(SMALL_SPEC.start, LAST_DAY),
        )
        assert ranged.success
        records = instance.get_records_for_run(ranged.run_id, limit=10_000).records
        yield [record.event_log_entry for record in records if _is_asset_event(record)]


def _is_asset_event(record: dg.EventLogRecord) -> bool:
    kind = record.event_log_entry.dagster_event_type
    return kind in (
        dg.DagsterEventType.ASSET_MATERIALIZATION,
        dg.DagsterEventType.ASSET_OBSERVATION,
    )


def _rows(storage: Any, query: str) -> list[tuple[object, ...]]:
    with storage._engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sqlalchemy.text(query))]


def test_a_batch_stores_the_rows_dagster_postgres_stores(
    range_run_events: list[dg.EventLogEntry], postgres_admin_url: str
) -> None:
    materializations = [
        e
        for e in range_run_events
        if e.dagster_event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
    ]
    observations = [e for e in range_run_events if e not in materializations]
    days = SMALL_SPEC.days
    assert len(materializations) == days * len(LOG_DATE_ASSETS)  # one per day and asset
    assert observations  # staging_events' loaded files

    with (
        new_database(postgres_admin_url) as theirs_url,
        new_database(postgres_admin_url) as ours_url,
    ):
        theirs = PostgresEventLogStorage(_storage_url(theirs_url))
        ours = CheckPlanningEventLogStorage(_storage_url(ours_url))
        calls: list[int] = []
        original = PostgresEventLogStorage.store_event_batch

        def counted(self: PostgresEventLogStorage, events: Any) -> None:
            calls.append(len(events))
            original(self, events)

        for storage in (theirs, ours):
            for batch in (materializations, observations):
                storage.store_event_batch(batch)
        try:
            PostgresEventLogStorage.store_event_batch = counted  # type: ignore[method-assign]
            ours.store_event_batch(materializations[:3])
        finally:
            PostgresEventLogStorage.store_event_batch = original  # type: ignore[method-assign]
        assert calls == []  # our statements, not dagster-postgres' batch write
        theirs.store_event_batch(materializations[:3])

        for query in (
            "SELECT id, run_id, event, dagster_event_type, timestamp, step_key, asset_key,"
            " partition FROM event_logs ORDER BY id",
            "SELECT event_id, asset_key, key, value, event_timestamp FROM asset_event_tags"
            " ORDER BY event_id, key",
            "SELECT asset_key, last_materialization, last_run_id, cached_status_data IS NULL,"
            " last_materialization_timestamp FROM asset_keys ORDER BY asset_key",
        ):
            assert _rows(ours, query) == _rows(theirs, query), query
        assert _rows(ours, "SELECT COUNT(*) FROM asset_event_tags") != [(0,)]
        for key in LOG_DATE_ASSETS:
            asset = dg.AssetKey(key)
            assert ours.get_materialized_partitions(asset) == theirs.get_materialized_partitions(
                asset
            )
            assert len(ours.get_materialized_partitions(asset)) == days
        ours.dispose()
        theirs.dispose()
