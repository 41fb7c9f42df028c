"""Benchmark: one more day on top of a history, the same day on top of two history sizes.

    python -m benchmarks.one_more_day                                   # 100k and 1M events
    python -m benchmarks.one_more_day --history-events 100000 --rounds 1
    python -m benchmarks.one_more_day --profile /tmp/one-day            # cProfile of each day run

One generated source (the long shape of ``real_paths`` at 1M events: ~350 events per daily file,
15,000 song files, 100 users, plus one more day) gives every history: a history of N events is the
run of days just before the extra day that holds N events. So the day, the catalog and the users
are the same; only the history grows (events and days, tenfold from 100k to 1M).

For each history size, on fresh databases of one server, through the commands a user types
(``sparkify dagster asset materialize`` on the project's instance, storage on PostgreSQL): the
catalog, then the history as one ``--partition-range`` run. Then, unless ``--no-settle``, the
warehouse is settled as it is by the next day: ``VACUUM (ANALYZE)`` and a checkpoint, untimed
(right after a bulk load, autovacuum works through the new rows for a while and, until it is done,
each table lock of a run waits up to ``deadlock_timeout`` for it to give way; a day that arrives a
day later never meets it). Then the extra day (``--partition``) runs ``--rounds`` times on each
history, the histories taking turns, so a busy machine slows both alike; the first round loads the
new day, the others re-materialize it.

Printed for each day run: the command's wall time (process start included) and the run itself as
Dagster records it (RUN_START to RUN_SUCCESS), with each step's STEP_START to STEP_SUCCESS; then
each history's medians and the ratio of the largest to the smallest. Targets (issue 13) beside the
figures; nothing asserts them.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import psycopg

from benchmarks.full_build import cached_source, embedded_admin_url, fresh_database, shape_spec
from benchmarks.real_paths import (
    LONG_DAYS,
    MODULE,
    Command,
    _environment,
    _run_seconds,
    _storage_url,
    run_command,
)
from sparkify_assets.defs.asset_groups import CATALOG_ASSETS, LOG_DATE_ASSETS
from sparkify_assets.instance.project_instance import instance_environment

SOURCE_EVENTS = 1_000_000  # the source's size: real_paths' long shape, ~350 events a day
STEP_EVENTS = (dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS)
MATERIALIZE = ["dagster", "asset", "materialize", *MODULE]


@dataclass
class DayRun:
    """One day run: the command, and each step's seconds as Dagster recorded them."""

    command: Command
    steps: dict[str, float]


@dataclass
class History:
    """One history's databases and instance, and its day runs."""

    events: int
    days: list[date]
    home: Path
    warehouse_url: str
    env: dict[str, str]
    runs: list[DayRun] = field(default_factory=list)


def _last_run_steps(home: Path) -> dict[str, float]:
    """STEP_START..STEP_SUCCESS seconds of each step of the instance's newest run."""
    with dg.DagsterInstance.from_config(str(home / "dagster_home")) as instance:
        (run,) = instance.get_runs(limit=1)
        started: dict[str, float] = {}
        steps: dict[str, float] = {}
        for event_type in STEP_EVENTS:
            for record in instance.get_records_for_run(run.run_id, of_type=event_type).records:
                entry = record.event_log_entry
                key = entry.step_key or "?"
                if event_type == dg.DagsterEventType.STEP_START:
                    started[key] = entry.timestamp
                else:
                    steps[key] = entry.timestamp - started[key]
    return steps


def _history_days(all_days: list[date], events: int, events_per_day: int) -> list[date]:
    """The days just before the last one that hold about ``events`` events."""
    count = max(1, round(events / events_per_day))
    if count >= len(all_days):
        raise SystemExit(f"the source holds {len(all_days) - 1} days, not {count}")
    return all_days[-1 - count : -1]


def build_history(
    stack: ExitStack, admin_url: str, source: Path, events: int, days: list[date]
) -> History:
    """The catalog and ``days`` loaded through the CLI on fresh databases (kept by ``stack``)."""
    home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sparkify-bench-")))
    warehouse = stack.enter_context(fresh_database(admin_url))
    storage = _storage_url(stack.enter_context(fresh_database(admin_url)))
    env = _environment(home, warehouse, storage, source)
    run_command([*MATERIALIZE, "--select", ",".join(CATALOG_ASSETS)], env, home)
    loaded = run_command(
        [
            *MATERIALIZE, "--select", ",".join(LOG_DATE_ASSETS),
            "--partition-range", f"{days[0]}...{days[-1]}",
        ],
        env,
        home,
    )  # fmt: skip
    steps = ", ".join(f"{step} {seconds:.1f}" for step, seconds in _last_run_steps(home).items())
    print(
        f"history of {events:,} events, {days[0]}..{days[-1]} ({len(days):,} days):"
        f" command {loaded.seconds:.1f} s, run {loaded.run_seconds:.1f} s  [steps: {steps}]"
    )
    return History(events, days, home, warehouse, env)


def settle(warehouse_url: str) -> float:
    """What autovacuum does after a bulk load, done now: VACUUM (ANALYZE), then a checkpoint."""
    started = time.perf_counter()
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
        connection.execute("CHECKPOINT")
    return time.perf_counter() - started


def day_run(history: History, extra: date, profile: Path | None) -> DayRun:
    day = [*MATERIALIZE, "--select", ",".join(LOG_DATE_ASSETS), "--partition", str(extra)]
    if profile is None:
        command = run_command(day, history.env, history.home)
    else:
        number = len(history.runs) + 1
        output = profile / f"history-{history.events}-day-{number}.prof"
        command = _profiled_command(day, history.env, history.home, output)
    return DayRun(command, _last_run_steps(history.home))


def _profiled_command(args: list[str], env: dict[str, str], home: Path, output: Path) -> Command:
    """``args`` (a ``dagster`` command) under cProfile, on the instance the earlier ``sparkify``
    commands prepared: the CLI executes the run in its own process, so the profile holds it."""
    output.parent.mkdir(parents=True, exist_ok=True)
    dagster = str(Path(sys.executable).parent / "dagster")
    instance_env = {
        **instance_environment(home / "dagster_home"),
        **env,
        "DAGSTER_HOME": str(home / "dagster_home"),
    }
    with dg.DagsterInstance.from_config(str(home / "dagster_home")) as instance:
        before = {r.run_id for r in instance.get_runs()}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(output), dagster, *args[1:]],
        env=instance_env,
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    with dg.DagsterInstance.from_config(str(home / "dagster_home")) as instance:
        run_ids = [r.run_id for r in instance.get_runs() if r.run_id not in before]
        run_seconds = _run_seconds(instance, run_ids)
    return Command(seconds, run_seconds, len(run_ids), 0.0)


def _print_run(history: History, run: DayRun) -> None:
    steps = ", ".join(f"{step} {seconds:.2f}" for step, seconds in run.steps.items())
    number = len(history.runs)
    kind = "new day" if number == 1 else "again"
    print(
        f"  {history.events:>9,} events, day run {number} ({kind}):"
        f" command {run.command.seconds:6.2f} s, run {run.command.run_seconds:5.2f} s,"
        f" peak RSS {run.command.peak_rss_mb:.0f} MB  [steps: {steps}]"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--history-events",
        default="100000,1000000",
        help="comma-separated history sizes in events (default: 100000,1000000)",
    )
    parser.add_argument(
        "--source-events",
        type=int,
        default=SOURCE_EVENTS,
        help="events of the source the histories are cut from (default 1000000)",
    )
    parser.add_argument("--rounds", type=int, default=5, help="day runs per history (default 5)")
    parser.add_argument(
        "--no-settle",
        action="store_true",
        help="run the day right after the history's bulk load (autovacuum still at work)",
    )
    parser.add_argument(
        "--profile", type=Path, default=None, help="directory for a cProfile of each day run"
    )
    parser.add_argument(
        "--postgres-url", default="", help="admin URL of the server (default: the embedded one)"
    )
    args = parser.parse_args(argv)
    sizes = sorted(int(size) for size in args.history_events.split(","))
    admin_url = args.postgres_url or embedded_admin_url()

    source_events = max(*sizes, args.source_events)  # the same day and catalog for every size
    spec = shape_spec("long", source_events)
    # real_paths' long shape at 1M (2,859 days of ~350 events), scaled for other sizes.
    days = max(2, round(LONG_DAYS * source_events / SOURCE_EVENTS))
    spec = replace(spec, days=days + 1, events_per_day=max(1, round(source_events / days)))
    source, _ = cached_source(spec)
    all_days = [spec.start + timedelta(days=n) for n in range(spec.days)]
    extra = all_days[-1]
    print(
        f"\n== one more day ({extra}, ~{spec.events_per_day} events) on top of"
        f" {', '.join(f'{size:,}' for size in sizes)} events of history;"
        f" {spec.catalog_songs:,} song files, {spec.users} users"
    )
    print(
        f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores,"
        f" Dagster {dg.__version__}, Python {platform.python_version()}"
    )
    with ExitStack() as stack:
        histories = [
            build_history(
                stack,
                admin_url,
                source,
                size,
                _history_days(all_days, size, spec.events_per_day),
            )
            for size in sizes
        ]
        if not args.no_settle:
            for history in histories:
                print(
                    f"settled {history.events:,}: {settle(history.warehouse_url):.1f} s (untimed)"
                )
        print()
        for _ in range(args.rounds):  # the histories take turns
            for history in histories:
                history.runs.append(day_run(history, extra, args.profile))
                _print_run(history, history.runs[-1])

    print()
    medians: dict[int, float] = {}
    for history in histories:
        runs = [run.command.run_seconds for run in history.runs]
        commands = [run.command.seconds for run in history.runs]
        medians[history.events] = statistics.median(runs)
        print(
            f"{history.events:>9,} events: new day run {runs[0]:.2f} s, command"
            f" {commands[0]:.2f} s; median of {len(runs)}: run {medians[history.events]:.2f} s,"
            f" command {statistics.median(commands):.2f} s"
        )
    if len(sizes) > 1:
        largest, smallest = max(sizes), min(sizes)
        print(
            f"run on {largest:,} / run on {smallest:,} (medians):"
            f" {medians[largest] / medians[smallest]:.2f}"
        )
    print("targets: the day's run <= 2 s on 1M events, and within 20% of the same on 100k")
    return 0


if __name__ == "__main__":
    sys.exit(main())
