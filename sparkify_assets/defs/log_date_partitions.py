"""The partitioning every event-derived asset shares: one partition per log date (UTC day)."""

import dagster as dg

FIRST_LOG_DATE = "2018-11-01"

# end_offset=1 makes today a valid partition, so a log file landing today can be loaded today.
log_date_partitions = dg.DailyPartitionsDefinition(start_date=FIRST_LOG_DATE, end_offset=1)

# A backfill of many days runs as one run and one set-based SQL step per asset.
log_date_backfill_policy = dg.BackfillPolicy.single_run()
