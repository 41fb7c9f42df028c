"""The partitioning every event-derived asset shares: one partition per log date (UTC day)."""

import warnings
from collections.abc import Sequence
from datetime import date, timedelta

import dagster as dg

FIRST_LOG_DATE = "2018-11-01"

# end_offset=1 makes today a valid partition, so a log file landing today can be loaded today.
log_date_partitions = dg.DailyPartitionsDefinition(start_date=FIRST_LOG_DATE, end_offset=1)

# A backfill of many days runs as one run and one set-based SQL step per asset.
log_date_backfill_policy = dg.BackfillPolicy.single_run()

# Dagster 1.13.27 warns that @asset's backfill_policy parameter is beta, once per asset at every
# code load; the policy works as documented and nothing a user can act on. Every asset passes this
# policy, defined here: the filter, exact to that one warning, lives beside it.
warnings.filterwarnings(
    "ignore",
    message=r"Parameter `backfill_policy` of function `asset` is currently in beta",
    category=dg.BetaWarning,
)


# A run's in-process result keeps all its events in memory (Dagster records one materialization per
# partition per asset): ranges longer than this are split into several runs to bound that memory.
MAX_DAYS_PER_RUN = 366


def contiguous_ranges(
    days: Sequence[date], max_days: int = MAX_DAYS_PER_RUN
) -> list[tuple[date, date]]:
    """``days`` as inclusive (first, last) ranges of consecutive dates, none longer than
    ``max_days``."""
    ranges: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if (
            ranges
            and ranges[-1][1] + timedelta(days=1) == day
            and (day - ranges[-1][0]).days < max_days
        ):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def partition_range_tags(first: date, last: date) -> dict[str, str]:
    """Tags that make a run materialize the log dates first..last (inclusive) at once."""
    return {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": last.isoformat(),
    }
