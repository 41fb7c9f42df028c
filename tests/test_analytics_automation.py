"""The analytics answers refresh by themselves after their tables change, at most once per
interval: their automation condition evaluated by Dagster (evaluate_automation_conditions) on an
instance, against the project's definitions, over simulated hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from sparkify_assets.definitions import defs
from sparkify_assets.defs import analytics_automation
from sparkify_assets.defs.asset_groups import ANALYTICS_GROUP

ANALYTICS = sorted(
    key.to_user_string()
    for key in dg.AssetSelection.groups(ANALYTICS_GROUP).resolve(defs.resolve_asset_graph())
)


class Ticks:
    """Automation evaluations of ``defs`` on one instance, at chosen (simulated) times."""

    def __init__(self) -> None:
        self.instance = dg.DagsterInstance.ephemeral()
        self.cursor: object = None
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        self.hour = now + timedelta(hours=1)  # a cron tick, after every real event of the test

    def requested(self, minutes: int) -> list[str]:
        result = dg.evaluate_automation_conditions(
            defs=defs,
            instance=self.instance,
            asset_selection=dg.AssetSelection.groups(ANALYTICS_GROUP),
            evaluation_time=self.hour + timedelta(minutes=minutes),
            cursor=self.cursor,  # type: ignore[arg-type]
        )
        self.cursor = result.cursor
        return sorted(key for key in ANALYTICS if result.get_requested_partitions(dg.AssetKey(key)))

    def materialized(self, key: str, partition: str | None = None) -> None:
        self.instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key=key, partition=partition)
        )


def test_answers_refresh_after_new_days_at_most_once_per_interval() -> None:
    ticks = Ticks()
    assert ticks.requested(5) == []  # nothing loaded: nothing to answer

    # A day is loaded (the star tables of 2018-11-01): every answer is computed once.
    for table in ("users", "songplays", "time"):
        ticks.materialized(table, "2018-11-01")
    for table in ("songs", "artists"):
        ticks.materialized(table)
    # The tick that sees the update waits (another table may be rebuilt after it on that tick).
    assert ticks.requested(6) == []
    assert ticks.requested(7) == ANALYTICS
    assert ticks.requested(8) == []  # requested in this interval already
    for key in ANALYTICS:
        ticks.materialized(key)

    # More days arrive within the same hour (an old one among them): no refresh until the next
    # tick of the interval, then one.
    ticks.materialized("songplays", "2018-11-02")
    ticks.materialized("time", "2018-11-02")
    assert ticks.requested(20) == []
    ticks.materialized("songplays", "2018-11-03")
    assert ticks.requested(40) == []
    assert ticks.requested(61) == ANALYTICS  # the next hour: one refresh for all of them
    assert ticks.requested(62) == []
    for key in ANALYTICS:
        ticks.materialized(key)

    # Nothing new upstream: a new interval alone refreshes nothing.
    assert ticks.requested(121) == []
    assert ticks.requested(181) == []

    # Only the users dimension changes: only the answer that reads it is refreshed.
    ticks.materialized("users", "2018-11-04")
    assert ticks.requested(182) == []
    assert ticks.requested(183) == ["most_active_users"]


def test_every_answer_carries_the_condition_and_the_sensor_evaluates_it() -> None:
    graph = defs.resolve_asset_graph()
    for key in ANALYTICS:
        condition = graph.get(dg.AssetKey(key)).automation_condition
        assert condition is not None
        assert condition.get_label() == ("refresh_after_upstream_change_at_most_every(0 * * * *)")
    sensor = defs.resolve_sensor_def("star_schema_automation_sensor")
    assert isinstance(sensor, dg.AutomationConditionSensorDefinition)
    assert set(ANALYTICS) <= {k.to_user_string() for k in sensor.asset_selection.resolve(graph)}
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_the_interval_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARKIFY_ANALYTICS_REFRESH_CRON", "*/15 * * * *")
    assert analytics_automation.analytics_refresh_cron() == "*/15 * * * *"
    monkeypatch.setenv("SPARKIFY_ANALYTICS_REFRESH_CRON", "every hour")
    with pytest.warns(UserWarning, match="not a cron schedule"):
        assert analytics_automation.analytics_refresh_cron() == "0 * * * *"
    monkeypatch.delenv("SPARKIFY_ANALYTICS_REFRESH_CRON")
    assert analytics_automation.analytics_refresh_cron() == "0 * * * *"


def test_a_quarter_hour_interval_refreshes_each_quarter() -> None:
    condition = analytics_automation.refresh_after_upstream_change_at_most_every("*/15 * * * *")

    @dg.asset(name="table")
    def table() -> None:
        return None

    @dg.asset(name="answer", deps=[table], automation_condition=condition)
    def answer() -> None:
        return None

    instance = dg.DagsterInstance.ephemeral()
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    cursor = None
    requested = []
    for minute in range(0, 60, 5):  # the table changes every 10 minutes for an hour
        if minute % 10 == 0:
            instance.report_runless_asset_event(dg.AssetMaterialization(asset_key="table"))
        result = dg.evaluate_automation_conditions(
            defs=[table, answer],
            instance=instance,
            evaluation_time=start + timedelta(minutes=minute, seconds=30),
            cursor=cursor,
        )
        cursor = result.cursor
        if result.get_requested_partitions(dg.AssetKey("answer")):
            requested.append(minute)
            instance.report_runless_asset_event(dg.AssetMaterialization(asset_key="answer"))
    # Once per quarter, each on the first tick that sees no new change of the table (a change
    # seen on a tick may set off another rebuild on it: the answer waits a tick); the very first
    # evaluation has no earlier one to see changes since.
    assert requested == [0, 15, 35, 45]


def test_a_first_deployment_answers_once_after_the_star_tables_not_before() -> None:
    """The staging tables and the catalog's dimensions are loaded; the star tables are requested
    on this tick. No answer may be computed now from tables about to change (it would run on an
    empty songplays and then wait for the next interval): all of them once the star tables are."""
    ticks = Ticks()
    day = "2018-11-01"

    def tick(minutes: int) -> set[str]:
        result = dg.evaluate_automation_conditions(
            defs=defs,
            instance=ticks.instance,
            evaluation_time=ticks.hour + timedelta(minutes=minutes),
            cursor=ticks.cursor,  # type: ignore[arg-type]
        )
        ticks.cursor = result.cursor
        return {
            key.to_user_string()
            for key in defs.resolve_asset_graph().get_all_asset_keys()
            if result.get_requested_partitions(key)
        }

    assert tick(0) == set()  # the daemon's first tick: nothing loaded yet
    ticks.materialized("staging_events", day)
    for table in ("staging_songs", "songs", "artists"):
        ticks.materialized(table)
    first = tick(1)
    assert {"users", "songplays", "time"} <= first
    assert not first & set(ANALYTICS)
    for table in ("users", "songplays", "time"):
        ticks.materialized(table, day)
    assert tick(2) == set()  # the star tables just changed: one tick's wait
    assert set(ANALYTICS) <= tick(3)  # every answer, in one run
