"""One ``fresh_vs_source`` check per log-dated table (lag behind the newest day in the source), run
on its own schedule and at the end of ``sparkify build`` (docs/operations.md, "Freshness")."""

from datetime import UTC, date, datetime

import dagster as dg
from pydantic import Field

from sparkify_assets.defs.resources import SourceResource, WarehouseResource
from sparkify_assets.settings.environment import env_int_setting
from sparkify_assets.source.log_freshness import LOG_DATED_TABLES, Freshness, FreshnessLimits
from sparkify_assets.warehouse.sql_files import statement

CHECK_NAME = "fresh_vs_source"
FRESHNESS_CRON = "10 * * * *"  # hourly, ten minutes past (away from the top-of-hour rush)


class FreshnessResource(dg.ConfigurableResource):
    """How far behind the source the log-dated tables may be."""

    warn_lag_days: int = Field(
        default=1,
        description=(
            "SPARKIFY_FRESHNESS_WARN_LAG_DAYS: warn when a table's newest log day is more than"
            " this many days behind the newest day in the source."
        ),
    )
    error_lag_days: int = Field(
        default=3,
        description="SPARKIFY_FRESHNESS_ERROR_LAG_DAYS: fail (ERROR) beyond this many days.",
    )
    max_age_days: int = Field(
        default=0,
        description=(
            "SPARKIFY_FRESHNESS_MAX_AGE_DAYS: also fail when the newest log day is more than this"
            " many days before today (wall clock); 0 = off."
        ),
    )

    def limits(self) -> FreshnessLimits:
        return FreshnessLimits(self.warn_lag_days, self.error_lag_days, self.max_age_days)


def freshness_resource_from_environment() -> FreshnessResource:
    return FreshnessResource(
        warn_lag_days=env_int_setting("SPARKIFY_FRESHNESS_WARN_LAG_DAYS", 1),
        error_lag_days=env_int_setting("SPARKIFY_FRESHNESS_ERROR_LAG_DAYS", 3),
        max_age_days=env_int_setting("SPARKIFY_FRESHNESS_MAX_AGE_DAYS", 0),
    )


def measure_freshness(
    table: str,
    source: SourceResource,
    warehouse: WarehouseResource,
    limits: FreshnessLimits,
    today: date | None = None,
) -> Freshness:
    """``table``'s newest log day against the source's newest log day."""
    newest_in_source = source.newest_log_day()
    with warehouse.open() as connection:
        (row,) = connection.query(statement(f"freshness.{table}"))
    newest = row["newest_log_date"]
    return Freshness(
        table=table,
        newest_loaded=newest if isinstance(newest, date) else None,
        newest_in_source=newest_in_source,
        today=today or datetime.now(UTC).date(),
        limits=limits,
    )


def freshness_result(freshness: Freshness) -> dg.AssetCheckResult:
    verdict = freshness.verdict
    limits = freshness.limits
    metadata: dict[str, str | int | None] = {
        "lag_days": freshness.lag_days,
        "newest_loaded_log_date": str(freshness.newest_loaded or ""),
        "newest_source_log_date": str(freshness.newest_in_source or ""),
        "warn_lag_days": limits.warn_lag_days,
        "error_lag_days": limits.error_lag_days,
        "max_age_days": limits.max_age_days,
        "age_days": freshness.age_days,
        "summary": freshness.summary,
    }
    return dg.AssetCheckResult(
        passed=verdict == "ok",
        severity=dg.AssetCheckSeverity.WARN if verdict == "warn" else dg.AssetCheckSeverity.ERROR,
        metadata={k: v for k, v in metadata.items() if v is not None},
        description=freshness.summary,
    )


def _freshness_check(table: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=table,
        name=CHECK_NAME,
        description=(
            f"{table} is at most warn_lag_days (WARN) / error_lag_days (ERROR) behind the newest"
            " log day in the source; optionally not older than max_age_days (freshness resource)."
        ),
        blocking=False,
    )
    def fresh_vs_source(
        context: dg.AssetCheckExecutionContext,
        source: SourceResource,
        warehouse: WarehouseResource,
        freshness: FreshnessResource,
    ) -> dg.AssetCheckResult:
        measured = measure_freshness(table, source, warehouse, freshness.limits())
        context.log.info(measured.summary)
        return freshness_result(measured)

    return fresh_vs_source


freshness_checks = [_freshness_check(table) for table in LOG_DATED_TABLES]

freshness_checks_job = dg.define_asset_job(
    "freshness_checks_job",
    selection=dg.AssetSelection.checks(*freshness_checks),
    description="Evaluates the fresh_vs_source checks of the log-dated tables.",
)

freshness_checks_schedule = dg.ScheduleDefinition(
    name="freshness_checks_schedule",
    job=freshness_checks_job,
    cron_schedule=FRESHNESS_CRON,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Hourly: how far behind the source the log-dated tables are (the lag grows when nothing"
        " arrives, which no load run can notice)."
    ),
)
