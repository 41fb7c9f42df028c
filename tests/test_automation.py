"""Files landing in S3 flow all the way to the star schema: the source sensors load staging, the
star tables' automation conditions (evaluated through Dagster) request the rest, and the runs are
executed on the test PostgreSQL, then the tables compared with the reference."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from sparkify_assets.definitions import defs
from sparkify_assets.defs.asset_groups import CATALOG_ASSETS
from sparkify_assets.defs.log_date_partitions import (
    contiguous_ranges,
    log_date_partitions,
    partition_range_tags,
)
from sparkify_assets.defs.resources import SourceResource
from sparkify_assets.defs.source_sensors import log_data_sensor, song_data_sensor
from sparkify_assets.defs.star_schema_automation import rebuild_after_upstream_change
from sparkify_assets.sample_data.generator import write_sample_source
from sparkify_assets.sample_data.spec import SampleSpec
from sparkify_assets.source.layout import log_key_for
from tests.conftest import resources_for
from tests.reference_warehouse import reference_warehouse
from tests.support.s3_server import (
    S3Bucket,
)
from tests.warehouse_state import assert_matches_reference

SPEC = SampleSpec(seed=5, days=8, events_per_day=20, users=10, catalog_songs=20)
DAYS = [SPEC.start + timedelta(days=n) for n in range(SPEC.days)]
LATE_DAY = date(2018, 11, 5)  # an OLD day (years before the latest partition), arriving last
PREFIX = "raw/"
STAR_ASSETS = ("users", "songs", "artists", "songplays", "time")


class Pipeline:
    """The sensors and the automation evaluated through Dagster on one instance, and the runs
    they request executed, as the daemon would: one run per unpartitioned group, one run per
    contiguous range of days (the assets' single-run backfill policy)."""

    def __init__(self, bucket: S3Bucket, warehouse_url: str) -> None:
        self.instance = dg.DagsterInstance.ephemeral()
        self.source = SourceResource(url=bucket.url(PREFIX), log_full_listing_interval_seconds=0)
        self.resources = {**resources_for(warehouse_url, ""), "source": self.source}
        self.sensor_cursors: dict[str, str | None] = {}
        self.automation_cursor: object = None

    def _materialize(self, selection: list[str], **kwargs: object) -> None:
        result = dg.materialize(
            list(defs.assets),  # type: ignore[arg-type]
            selection=selection,
            resources=self.resources,
            instance=self.instance,
            **kwargs,  # type: ignore[arg-type]
        )
        assert result.success

    def tick(self, sensor: dg.SensorDefinition, selection: list[str]) -> int:
        """One tick of ``sensor``; runs what it requests; returns how many runs that was."""
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.sensor_cursors.get(sensor.name),
            definitions=defs,
            resources={"source": self.source},
        )
        data = sensor.evaluate_tick(context)
        self.sensor_cursors[sensor.name] = data.cursor
        for request in data.run_requests or []:
            self._materialize(selection, partition_key=request.partition_key, tags=request.tags)
        return len(data.run_requests or [])

    def automate(self) -> dict[str, set[str | None]]:
        """One automation evaluation; runs what it requests; returns it per asset."""
        result = dg.evaluate_automation_conditions(
            defs=defs,
            instance=self.instance,
            cursor=self.automation_cursor,  # type: ignore[arg-type]
        )
        self.automation_cursor = result.cursor
        requested = {
            key: set(result.get_requested_partitions(dg.AssetKey(key)))
            for key in STAR_ASSETS
            if result.get_requested_partitions(dg.AssetKey(key))
        }
        unpartitioned = [key for key, parts in requested.items() if parts == {None}]
        if unpartitioned:
            self._materialize(unpartitioned)
        by_days: dict[frozenset[str | None], list[str]] = defaultdict(list)
        for key, parts in requested.items():
            if parts != {None}:
                by_days[frozenset(parts)].append(key)
        for day_keys, keys in by_days.items():
            days = [date.fromisoformat(str(p)) for p in day_keys]
            for first, last in contiguous_ranges(days):
                self._materialize(keys, tags=partition_range_tags(first, last))
        return requested


def test_files_landing_in_s3_flow_to_the_star_schema(
    s3_bucket: S3Bucket,
    tmp_path: Path,
    warehouse_url: str,
) -> None:
    root = tmp_path / "source"
    write_sample_source(root, SPEC)
    s3_bucket.upload_tree(root / "song_data", f"{PREFIX}song_data/")
    for day in DAYS:
        if day != LATE_DAY:
            s3_bucket.put(f"{PREFIX}{log_key_for(day)}", (root / log_key_for(day)).read_bytes())
    pipeline = Pipeline(s3_bucket, warehouse_url)
    loaded = {d.isoformat() for d in DAYS if d != LATE_DAY}

    assert pipeline.automate() == {}  # the first evaluation only takes the baseline

    # The files already in the bucket: the catalog, then 7 days in two range runs (no Nov 5).
    assert pipeline.tick(song_data_sensor, list(CATALOG_ASSETS)) == 1
    assert pipeline.tick(log_data_sensor, ["staging_events"]) == 2
    requested = pipeline.automate()
    # songs/artists ran with the catalog; every loaded day's star tables follow, nothing else.
    assert requested == {"users": loaded, "songplays": loaded, "time": loaded}
    assert pipeline.automate() == {}  # their own updates do not trigger them again
    assert_matches_reference(warehouse_url, reference_warehouse(root, days=loaded))

    # A late file for an OLD day (eager() would ignore it: not the latest partition).
    late = LATE_DAY.isoformat()
    s3_bucket.put(f"{PREFIX}{log_key_for(LATE_DAY)}", (root / log_key_for(LATE_DAY)).read_bytes())
    assert pipeline.tick(log_data_sensor, ["staging_events"]) == 1
    assert pipeline.automate() == {"users": {late}, "songplays": {late}, "time": {late}}
    loaded.add(late)
    assert pipeline.automate() == {}
    assert_matches_reference(warehouse_url, reference_warehouse(root))

    # A corrected file for a loaded day: its rows are replaced all the way down.
    corrected = date(2018, 11, 3)
    path = root / log_key_for(corrected)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[: len(lines) // 2]))
    s3_bucket.put(f"{PREFIX}{log_key_for(corrected)}", path.read_bytes())
    assert pipeline.tick(log_data_sensor, ["staging_events"]) == 1
    only = {corrected.isoformat()}
    assert pipeline.automate() == {"users": only, "songplays": only, "time": only}
    assert_matches_reference(warehouse_url, reference_warehouse(root))

    # The catalog changes (a title corrected): songs/artists are rebuilt by the catalog run, and
    # songplays/time for exactly the days loaded — not for every one of the ~2,900 partitions.
    song_path = next(
        p
        for p in sorted((root / "song_data").rglob("*.json"))
        if json.loads(p.read_text(encoding="utf-8"))["title"]
        in {e.get("song") for e in _events(root)}
    )
    song = json.loads(song_path.read_text(encoding="utf-8"))
    song["title"] += " (Remastered)"
    song_path.write_text(json.dumps(song), encoding="utf-8")
    s3_bucket.put(f"{PREFIX}{song_path.relative_to(root).as_posix()}", song_path.read_bytes())
    assert pipeline.tick(song_data_sensor, list(CATALOG_ASSETS)) == 1
    assert pipeline.automate() == {"songplays": loaded, "time": loaded}
    assert pipeline.automate() == {}
    assert_matches_reference(warehouse_url, reference_warehouse(root))


def _events(root: Path) -> list[dict[str, object]]:
    return [
        json.loads(line)
        for path in sorted((root / "log_data").rglob("*.json"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def test_star_tables_carry_the_condition_and_a_running_sensor_evaluates_it() -> None:
    graph = defs.resolve_asset_graph()
    for key in STAR_ASSETS:
        condition = graph.get(dg.AssetKey(key)).automation_condition
        assert condition is not None
        assert condition.get_label() == "rebuild_after_upstream_change"
    for key in ("staging_events", "staging_songs"):  # the sensors load these
        assert graph.get(dg.AssetKey(key)).automation_condition is None
    sensor = defs.resolve_sensor_def("star_schema_automation_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    # Unlike eager(), no restriction to the latest time window.
    assert "InLatestTimeWindowCondition" not in repr(rebuild_after_upstream_change())
    assert "InLatestTimeWindowCondition" in repr(dg.AutomationCondition.eager())


@pytest.mark.parametrize("name", ["log_data_sensor", "song_data_sensor"])
def test_source_sensors_are_registered_and_running(name: str) -> None:
    sensor = defs.resolve_sensor_def(name)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


# The condition on its own, on two tiny assets (no warehouse): what makes it differ from eager().


def _two_assets(
    condition: dg.AutomationCondition, failing: list[bool]
) -> list[dg.AssetsDefinition]:
    @dg.asset(name="upstream_day", partitions_def=log_date_partitions)
    def upstream_day() -> None:
        return None

    @dg.asset(
        name="downstream_day",
        deps=[upstream_day],
        partitions_def=log_date_partitions,
        automation_condition=condition,
    )
    def downstream_day() -> None:
        if failing[0]:
            raise RuntimeError("refused by the test")

    return [upstream_day, downstream_day]


class TinyGraph:
    def __init__(self, condition: dg.AutomationCondition) -> None:
        self.failing = [False]
        self.assets = _two_assets(condition, self.failing)
        self.instance = dg.DagsterInstance.ephemeral()
        self.cursor: object = None

    def materialize(self, key: str, day: str) -> bool:
        return dg.materialize(
            self.assets,
            selection=[key],
            partition_key=day,
            instance=self.instance,
            raise_on_error=False,
        ).success

    def requested(self) -> set[str | None]:
        result = dg.evaluate_automation_conditions(
            defs=self.assets,
            instance=self.instance,
            cursor=self.cursor,  # type: ignore[arg-type]
        )
        self.cursor = result.cursor
        return set(result.get_requested_partitions(dg.AssetKey("downstream_day")))


OLD_DAY = "2018-11-02"


def test_an_old_day_flows_down_unlike_with_eager() -> None:
    ours, eager = (
        TinyGraph(rebuild_after_upstream_change()),
        TinyGraph(dg.AutomationCondition.eager()),
    )
    for graph in (ours, eager):
        graph.requested()
        assert graph.materialize("upstream_day", OLD_DAY)
    assert ours.requested() == {OLD_DAY}
    assert eager.requested() == set()  # eager() only looks at the latest day


def test_updates_are_ordered_by_time_within_one_tick() -> None:
    graph = TinyGraph(rebuild_after_upstream_change())
    graph.requested()
    assert graph.materialize("upstream_day", OLD_DAY)
    assert graph.materialize("downstream_day", OLD_DAY)
    assert graph.requested() == set()  # downstream updated after upstream: up to date
    assert graph.materialize("downstream_day", OLD_DAY)
    assert graph.materialize("upstream_day", OLD_DAY)  # corrected after downstream's update
    assert graph.requested() == {OLD_DAY}


@pytest.mark.parametrize("subset_planned_events", ["0", "1"])
def test_a_failed_run_waits_for_the_next_upstream_update(
    subset_planned_events: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "1": what the project's instance sets; a failed run then marks no partition failed.
    monkeypatch.setenv("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", subset_planned_events)
    graph = TinyGraph(rebuild_after_upstream_change())
    graph.requested()
    assert graph.materialize("upstream_day", OLD_DAY)
    assert graph.requested() == {OLD_DAY}
    graph.failing[0] = True
    assert not graph.materialize("downstream_day", OLD_DAY)
    assert graph.requested() == set()  # not retried on every tick
    assert graph.requested() == set()
    graph.failing[0] = False
    assert graph.materialize("upstream_day", OLD_DAY)
    assert graph.requested() == {OLD_DAY}
