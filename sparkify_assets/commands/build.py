"""``sparkify build`` (and the benchmark): the catalog, every log date in the source (one run per
contiguous range of days, however long), then the analytics answers, so nothing is left to the
sensors."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import dagster as dg

from sparkify_assets.defs.asset_groups import ANALYTICS_GROUP, CATALOG_ASSETS, LOG_DATE_ASSETS
from sparkify_assets.defs.backup_assets import BACKUP_ASSET
from sparkify_assets.defs.freshness_checks import CHECK_NAME as FRESHNESS_CHECK
from sparkify_assets.defs.log_date_partitions import contiguous_ranges, partition_range_tags
from sparkify_assets.source.log_freshness import LOG_DATED_TABLES


def initialized_resource(resource: object, instance: dg.DagsterInstance | None = None) -> Any:
    """A resource with its EnvVar config resolved, for use outside a run. Give the ``instance``
    when there is one: without, Dagster builds an ephemeral instance for the resource's init
    context (0.45 s for the first in a process: SQLite storage and its migrations)."""
    if not isinstance(resource, dg.ConfigurableResource):
        return resource
    if instance is None:
        return resource.process_config_and_initialize()
    try:
        with dg.build_resources({"resource": resource}, instance=instance) as built:
            return built.resource
    except dg.DagsterUserCodeExecutionError as error:  # the resource's own error, unwrapped
        raise error.user_exception from None  # as process_config_and_initialize raises it


@dataclass(frozen=True)
class RunSummary:
    """What a build keeps of a run: not its event list, which grows with the partitions."""

    run_id: str
    success: bool
    check_evaluations: list[dg.AssetCheckEvaluation]
    step_seconds: dict[str, float]
    step_failures: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, run: dg.ExecuteInProcessResult) -> RunSummary:
        seconds: dict[str, float] = {}
        failures: dict[str, str] = {}
        for event in run.all_events:
            if event.event_type == dg.DagsterEventType.STEP_SUCCESS and event.step_key:
                seconds[event.step_key] = event.event_specific_data.duration_ms / 1000  # type: ignore[union-attr]
            elif event.event_type == dg.DagsterEventType.STEP_FAILURE and event.step_key:
                failures[event.step_key] = _failure_message(event.event_specific_data)
        return cls(
            run.run_id, run.success, list(run.get_asset_check_evaluations()), seconds, failures
        )


def _failure_message(data: Any) -> str:
    """A failed step's message in one line: a dg.Failure's description, else the error's."""
    user_failure = getattr(data, "user_failure_data", None)
    if user_failure is not None and user_failure.description:
        return str(user_failure.description).splitlines()[0]
    error = getattr(data, "error", None)
    while error is not None and error.cause is not None:  # Dagster's wrapper, then the cause
        error = error.cause
    return error.message.strip().splitlines()[0] if error is not None else "(no message)"


@dataclass
class BuildOutcome:
    """What a build did: its runs, and every check evaluation they recorded."""

    runs: list[RunSummary] = field(default_factory=list)
    log_dates: list[date] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return all(run.success for run in self.runs) and not self.failed_checks

    @property
    def check_evaluations(self) -> list[dg.AssetCheckEvaluation]:
        return [e for run in self.runs for e in run.check_evaluations]

    @property
    def failed_checks(self) -> list[dg.AssetCheckEvaluation]:
        return [
            e
            for e in self.check_evaluations
            if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
        ]


def build_warehouse(
    defs: dg.Definitions,
    *,
    instance: dg.DagsterInstance | None = None,
    resources: dict[str, object] | None = None,
    log_dates: Sequence[date] | None = None,
    log_level: str = "INFO",
    check_freshness: bool | None = None,
) -> BuildOutcome:
    """Materializes every asset: the catalog once, then ``log_dates`` (default: every log date
    in the source) one contiguous range per run (however long), the last one with the freshness
    checks when ``check_freshness`` (default: when ``log_dates`` is None, i.e. a build of every
    log date; a partial build is behind the source on purpose). Stops at the first failed run.
    Without an ``instance``, each run gets an ephemeral one of its own, dropped after the run.
    Then the analytics answers, in one run, when ``defs`` has them."""
    all_resources = {**(defs.resources or {}), **(resources or {})}
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    assets = [*(defs.assets or []), *(defs.asset_checks or [])]
    # Freshness (lag behind the source) is measured once, in the run of the last range, after its
    # tables: a range run before a gap in the days is "behind" until the last one.
    freshness_keys = [
        key
        for checks in defs.asset_checks or []
        for key in checks.check_keys
        if key.name == FRESHNESS_CHECK and key.asset_key.to_user_string() in LOG_DATED_TABLES
    ]
    freshness = dg.AssetSelection.checks(*freshness_keys)
    outcome = BuildOutcome()
    if check_freshness is None:
        check_freshness = log_dates is None
    if log_dates is None:
        source = initialized_resource(all_resources["source"], instance)
        log_dates = [day for day, _ in source.tree().log_files()]
    outcome.log_dates = sorted(set(log_dates))

    def run(selection: dg.AssetSelection, tags: dict[str, str] | None) -> bool:
        with contextlib.ExitStack() as stack:
            run_instance = (
                instance
                if instance is not None
                else stack.enter_context(dg.DagsterInstance.ephemeral())
            )
            result = dg.materialize(
                assets,  # type: ignore[arg-type]
                selection=selection,
                resources=all_resources,
                run_config=run_config,
                instance=run_instance,
                tags=tags,
                raise_on_error=False,
            )
            outcome.runs.append(RunSummary.of(result))
            return result.success

    if not run(dg.AssetSelection.assets(*CATALOG_ASSETS) - freshness, None):
        return outcome
    backup = all_resources.get("backup")
    backs_up = backup is not None and bool(initialized_resource(backup, instance).url)
    names = (*LOG_DATE_ASSETS, BACKUP_ASSET) if backs_up else LOG_DATE_ASSETS
    ranges = contiguous_ranges(outcome.log_dates, max_days=max(1, len(outcome.log_dates)))
    for number, (first, last) in enumerate(ranges, start=1):
        selection: dg.AssetSelection = dg.AssetSelection.assets(*names)
        if number < len(ranges) or not check_freshness:  # measured after the last day only
            selection = selection - freshness
        if not run(selection, partition_range_tags(first, last)):
            return outcome
    # The analytics answers last, from the finished tables: then the automation has nothing left
    # to request when the daemon starts after a build.
    graph = defs.resolve_asset_graph()
    analytics = [
        key
        for key in graph.materializable_asset_keys
        if graph.get(key).group_name == ANALYTICS_GROUP
    ]
    if outcome.log_dates and analytics:
        run(dg.AssetSelection.assets(*analytics), None)
    return outcome
