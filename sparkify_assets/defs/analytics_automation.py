"""Declarative automation of the analytics answers: refreshed after their tables change, at most
once per ``SPARKIFY_ANALYTICS_REFRESH_CRON`` tick (why: docs/architecture.md, "defs/")."""

from __future__ import annotations

import os
import warnings

import dagster as dg

DEFAULT_REFRESH_CRON = "0 * * * *"  # at most once an hour


def analytics_refresh_cron() -> str:
    """``SPARKIFY_ANALYTICS_REFRESH_CRON`` (read when the code location loads), or the default
    when it is unset or not a cron schedule Dagster accepts (with a warning: the code location
    still loads, and the condition's label shows the schedule in effect)."""
    configured = os.environ.get("SPARKIFY_ANALYTICS_REFRESH_CRON", "").strip()
    if not configured:
        return DEFAULT_REFRESH_CRON
    try:
        dg.AutomationCondition.cron_tick_passed(configured)
    except Exception:
        warnings.warn(
            f"SPARKIFY_ANALYTICS_REFRESH_CRON={configured!r} is not a cron schedule; the analytics"
            f" refresh uses {DEFAULT_REFRESH_CRON!r}",
            stacklevel=2,
        )
        return DEFAULT_REFRESH_CRON
    return configured


def refresh_after_upstream_change_at_most_every(
    cron_schedule: str,
) -> dg.AutomationCondition[dg.AssetKey]:
    """True for an unpartitioned asset when a dependency was updated after it (or it is missing
    and every dependency has data), it was not requested since the latest tick of
    ``cron_schedule``, no dependency was updated since the previous tick, and neither it nor a
    dependency is in progress."""
    updated = dg.AutomationCondition.any_deps_match(
        dg.AutomationCondition.newly_updated()
    ).with_label("dep_updated")
    stale = updated.since(dg.AutomationCondition.newly_updated()).with_label(
        "dep_updated_since_own_update"
    )
    never_computed = (
        dg.AutomationCondition.missing()
        & dg.AutomationCondition.all_deps_match(~dg.AutomationCondition.missing())
    ).with_label("missing_with_data_in_every_table")
    requested_this_interval = (
        dg.AutomationCondition.newly_requested()
        .since(dg.AutomationCondition.cron_tick_passed(cron_schedule))
        .with_label(f"requested_since_tick_of({cron_schedule})")
    )
    # A dependency updated since the previous tick may set off a rebuild of another one on this
    # tick (the catalog changes: songplays follows), which Dagster cannot say yet across
    # partitions definitions: the answer waits one tick, by when that rebuild is in progress.
    dep_just_updated = dg.AutomationCondition.any_deps_match(
        dg.AutomationCondition.newly_updated()
    ).with_label("dep_updated_since_last_tick")
    condition = (
        (stale | never_computed)
        & ~requested_this_interval
        & ~dep_just_updated
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    )
    return condition.with_label(f"refresh_after_upstream_change_at_most_every({cron_schedule})")


analytics_refresh = refresh_after_upstream_change_at_most_every(analytics_refresh_cron())
