"""Benchmark: what Dagster itself costs per partition of a single-run range, with no work at all.

    python -m benchmarks.dagster_partition_overhead --days 1 300 3003
    python -m benchmarks.dagster_partition_overhead --days 300 --persistent

Four daily-partitioned assets in a chain, four checks each, like the warehouse's log-date assets
(staging_events, users, songplays, time), with bodies that do nothing. One run materializes a range
of N days, as the build and a UI backfill do. Dagster records a materialization-planned and a
materialization event per asset per day, and a planned row per check per day: the seconds printed
are that bookkeeping alone, the floor under any Dagster build of N daily partitions.

``--persistent`` uses a DAGSTER_HOME-style SQLite instance (what ``dagster dev`` uses) instead of
the ephemeral in-memory one.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from benchmarks.full_build import peak_memory_mb

warnings.filterwarnings("ignore", category=dg.BetaWarning)

ASSETS = 4
CHECKS_PER_ASSET = 4
FIRST_DAY = date(2018, 11, 1)
partitions = dg.DailyPartitionsDefinition(start_date=FIRST_DAY.isoformat(), end_offset=1)


def _idle_asset(name: str, upstream: list[str]) -> dg.AssetsDefinition:
    checks = [dg.AssetCheckSpec(f"check_{n}", asset=name) for n in range(CHECKS_PER_ASSET)]

    @dg.asset(
        name=name,
        deps=upstream,
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        check_specs=checks,
    )
    def idle() -> dg.MaterializeResult:
        return dg.MaterializeResult(
            metadata={"rows_in_run_window": 0, "dagster/table_name": f"db.public.{name}"},
            check_results=[
                dg.AssetCheckResult(check_name=spec.name, passed=True, metadata={"failures": 0})
                for spec in checks
            ],
        )

    return idle


IDLE_ASSETS = [_idle_asset(f"table_{n}", [f"table_{n - 1}"] if n else []) for n in range(ASSETS)]


def range_run_seconds(days: int, instance: dg.DagsterInstance) -> float:
    last = FIRST_DAY + timedelta(days=days - 1)
    started = time.perf_counter()
    result = dg.materialize(
        IDLE_ASSETS,
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": FIRST_DAY.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    seconds = time.perf_counter() - started
    if not result.success:
        raise SystemExit("the idle run failed")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--days", type=int, nargs="+", default=[1, 300, 3003])
    parser.add_argument("--persistent", action="store_true")
    args = parser.parse_args(argv)
    kind = "SQLite (DAGSTER_HOME)" if args.persistent else "ephemeral"
    print(f"\n== Dagster's own cost of one single-run range: {ASSETS} assets x {CHECKS_PER_ASSET}")
    print(f"   checks, idle bodies, {kind} instance")
    print(f"{'days':>8}{'asset-partitions':>18}{'seconds':>10}{'ms each':>10}{'peak MB':>10}")
    for days in args.days:
        with tempfile.TemporaryDirectory() as home:
            Path(home, "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
            with (
                dg.DagsterInstance.from_config(home)
                if args.persistent
                else dg.DagsterInstance.ephemeral()
            ) as instance:
                seconds = range_run_seconds(days, instance)
        print(
            f"{days:>8,}{days * ASSETS:>18,}{seconds:>10.2f}"
            f"{seconds / (days * ASSETS) * 1000:>10.2f}{peak_memory_mb():>10.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
