"""Declarative automation of the star schema: a table's partitions of any day are rebuilt after
their upstream changes (why not ``eager()``, why no storm: docs/architecture.md, "defs/")."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg


def rebuild_after_upstream_change(
    ignoring: Sequence[str] = (),
) -> dg.AutomationCondition[dg.AssetKey]:
    """True for a partition (of any date, or the whole asset) when a dependency (except those in
    ``ignoring``) was updated after the partition itself was, or is requested in the same run;
    only while no dependency is missing or in progress and the partition is not in progress.

    Built so that Dagster can order the events by time: ``newly_updated`` carries timestamps,
    which SINCE compares when a dependency's update and the partition's own update land on the
    same tick (a day corrected, or the catalog changed, while the previous run finishes).
    Boolean operators drop those timestamps, so trigger and reset stay bare — unlike eager's
    ``any_deps_updated().since_last_handled()``, where the reset wins every such tie and the
    update is lost. The timestamps also recognise a partition updated after its dependency in
    one run, whoever launched it (``sparkify build`` included), so ``executed_with_root_target``
    is not needed. After a failed run the partition waits for the next upstream update instead
    of being retried on every tick.
    """
    updated = dg.AutomationCondition.any_deps_match(dg.AutomationCondition.newly_updated())
    in_same_run = dg.AutomationCondition.any_deps_match(dg.AutomationCondition.will_be_requested())
    if ignoring:
        updated = updated.ignore(dg.AssetSelection.assets(*ignoring))
        in_same_run = in_same_run.ignore(dg.AssetSelection.assets(*ignoring))
    updated = updated.with_label("dep_updated")
    stale = updated.since(dg.AutomationCondition.newly_updated()).with_label(
        "dep_updated_since_own_update"
    )
    failed_before_update = (dg.AutomationCondition.execution_failed() & ~updated).with_label(
        "failed_and_no_new_dep_update"
    )
    # The project's instance writes one "planned" event per asset for a range run
    # (DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS), so a failed range run marks no partition
    # failed and execution_failed() stays false: without this, a failing partition would be
    # requested again on every tick. Requested once per dependency update, whatever the outcome.
    requested_since_dep_update = (
        dg.AutomationCondition.newly_requested().since(updated)
    ).with_label("requested_since_last_dep_update")
    condition = (
        (stale | in_same_run.with_label("dep_requested_in_same_run"))
        & ~failed_before_update
        & ~requested_since_dep_update
        & ~dg.AutomationCondition.any_deps_missing()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    )
    return condition.with_label("rebuild_after_upstream_change")  # type: ignore[return-value]


star_schema_automation_sensor = dg.AutomationConditionSensorDefinition(
    "star_schema_automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    # Many partitions requested on one tick become one backfill, which the assets' single-run
    # backfill policy executes as one run per contiguous range: not one run per day.
    emit_backfills=True,
    description=(
        "Evaluates the automation conditions every 30 s: a star table is rebuilt after its"
        " upstream partitions change (defs/star_schema_automation.py); an analytics answer is"
        " refreshed after its tables change, at most once per SPARKIFY_ANALYTICS_REFRESH_CRON"
        " interval (defs/analytics_automation.py)."
    ),
)
