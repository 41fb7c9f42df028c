"""The partitioning every event-derived asset shares: one partition per log date (UTC day)."""

import warnings

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
