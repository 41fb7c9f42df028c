"""Benchmark: the commands a user types, on the project's Dagster instance, against the floor.

    python -m benchmarks.real_paths --events 1000000 --shape long
    python -m benchmarks.real_paths --events 1000000 --shape dense
    python -m benchmarks.real_paths --events 100000 --shape long     # the 100k reference day

For one generated source (cached as in ``full_build``), each in fresh databases of one server:

1. the floor (``full_build.floor_build``: read + parse + COPY + the transforms, no checks);
2. ``sparkify build`` as a subprocess (its own instance, storage on PostgreSQL);
3. ``sparkify dagster asset materialize`` twice (the catalog, then ``--partition-range`` over every
   day but the last), as a subprocess each, on another fresh instance; then
4. one more day on top (the last day) through ``sparkify dagster asset materialize --partition``.

Printed: each command's wall time (process start included), the runs' own time as Dagster records
it (RUN_START to RUN_SUCCESS, summed over the command's runs), each ratio to the floor, the peak RSS
of each command's process tree (the CLI and its children; the PostgreSQL server excluded), with the
date, the machine's cores and the Dagster version. Targets (issue 13) are printed beside the
figures; nothing asserts them.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg

from benchmarks.full_build import cached_source, floor_build, fresh_database, shape_spec
from sparkify_assets.defs.asset_groups import CATALOG_ASSETS, LOG_DATE_ASSETS
from sparkify_assets.warehouse.postgres.embedded_server import EmbeddedPostgres

SPARKIFY = str(Path(sys.executable).parent / "sparkify")
MODULE = ["-m", "sparkify_assets.definitions"]
LONG_DAYS = 2_859  # 2018-11-01 .. 2026-09-07: the long shape


@dataclass
class Command:
    """One command's wall time, its runs' RUN_START..RUN_SUCCESS seconds, its tree's peak RSS."""

    seconds: float
    run_seconds: float
    runs: int
    peak_rss_mb: float


def _run_seconds(instance: dg.DagsterInstance, run_ids: list[str]) -> float:
    total = 0.0
    for run_id in run_ids:
        stamps: dict[dg.DagsterEventType, float] = {}
        for event_type in (dg.DagsterEventType.RUN_START, dg.DagsterEventType.RUN_SUCCESS):
            records = instance.get_records_for_run(run_id, of_type=event_type).records
            if not records:
                raise SystemExit(f"run {run_id} has no {event_type.value}: it failed")
            stamps[event_type] = records[0].event_log_entry.timestamp
        total += stamps[dg.DagsterEventType.RUN_SUCCESS] - stamps[dg.DagsterEventType.RUN_START]
    return total


def run_command(args: list[str], env: dict[str, str], home: Path) -> Command:
    """Runs ``sparkify <args>`` and measures it; its runs are the instance's new runs."""
    instance_dir = home / "dagster_home"
    before: set[str] = set()
    if (instance_dir / "dagster.yaml").exists():
        with dg.DagsterInstance.from_config(str(instance_dir)) as instance:
            before = {r.run_id for r in instance.get_runs()}
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        process = subprocess.Popen([SPARKIFY, *args], env=env, stdout=output, stderr=output)
        # wait4: this command's own resource usage, its waited-for children included (the
        # largest process of its tree for ru_maxrss, in KiB on Linux).
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            output.seek(0)
            sys.stdout.write(output.read().decode(errors="replace")[-5000:])
            raise SystemExit(f"`sparkify {' '.join(args)}` failed ({process.returncode})")
    with dg.DagsterInstance.from_config(str(instance_dir)) as instance:
        run_ids = [r.run_id for r in instance.get_runs() if r.run_id not in before]
        run_seconds = _run_seconds(instance, run_ids)
    return Command(seconds, run_seconds, len(run_ids), usage.ru_maxrss / 1024)


def _environment(home: Path, warehouse_url: str, storage_url: str, source: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "SPARKIFY_HOME": str(home),
        "SPARKIFY_WAREHOUSE_URL": warehouse_url,
        "SPARKIFY_DAGSTER_STORAGE_URL": storage_url,
        "SPARKIFY_SOURCE_URL": str(source),
    }
    env.pop("DAGSTER_HOME", None)
    return env


def _storage_url(libpq_url: str) -> str:
    """The fresh database's URL without the empty password pgserver's URLs carry (``user:@``)."""
    return libpq_url.replace(":@", "@", 1)


def history_tree(source: Path, history: list[date]) -> Path:
    """A tree of links to ``source``'s song files and the ``history`` days' log files (what
    `sparkify build` must load: it loads every day it finds)."""
    root = source.with_name(f"{source.name}-history-{len(history)}")
    if (root / "complete").exists():
        return root
    (root / "log_data").mkdir(parents=True, exist_ok=True)
    for day in history:
        relative = Path(f"log_data/{day:%Y/%m}/{day:%Y-%m-%d}-events.json")
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        os.link(source / relative, root / relative)
    for song in (source / "song_data").rglob("*.json"):  # hard links: the tree opens no
        relative = song.relative_to(source)  # symbolic link (O_NOFOLLOW)
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        os.link(song, root / relative)
    (root / "complete").touch()
    return root


def real_paths(shape: str, events: int, admin_url: str) -> None:
    spec = shape_spec(shape, events)
    if shape == "long":  # as many days as the data, all of them partitions today
        spec = replace(spec, days=LONG_DAYS, events_per_day=max(1, round(events / LONG_DAYS)))
    spec = replace(spec, days=spec.days + 1)  # one more day, for step 4
    source, _ = cached_source(spec)
    days = [spec.start + timedelta(days=n) for n in range(spec.days)]
    history, extra = days[:-1], days[-1]
    history_source = history_tree(source, history)
    total = spec.events_per_day * len(history)
    print(
        f"\n== {shape} shape: {total:,} events in {len(history):,} daily files"
        f" (+1 day for the one-more-day run), {spec.catalog_songs:,} song files"
    )
    print(
        f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores,"
        f" Dagster {dg.__version__}, Python {platform.python_version()}"
    )

    with fresh_database(admin_url) as url:
        floor = floor_build(source, url, history).total

    figures: dict[str, Command] = {}
    with ExitStack() as stack:
        home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sparkify-bench-")))
        warehouse = stack.enter_context(fresh_database(admin_url))
        storage = _storage_url(stack.enter_context(fresh_database(admin_url)))
        env = _environment(home / "build", warehouse, storage, history_source)
        figures["sparkify build"] = run_command(["build"], env, home / "build")

    with ExitStack() as stack:
        home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sparkify-bench-")))
        warehouse = stack.enter_context(fresh_database(admin_url))
        storage = _storage_url(stack.enter_context(fresh_database(admin_url)))
        env = _environment(home / "cli", warehouse, storage, source)
        catalog = run_command(
            ["dagster", "asset", "materialize", *MODULE, "--select", ",".join(CATALOG_ASSETS)],
            env,
            home / "cli",
        )
        events_run = run_command(
            [
                "dagster", "asset", "materialize", *MODULE,
                "--select", ",".join(LOG_DATE_ASSETS),
                "--partition-range", f"{history[0]}...{history[-1]}",
            ],
            env,
            home / "cli",
        )  # fmt: skip
        figures["dagster asset materialize (2 commands)"] = Command(
            catalog.seconds + events_run.seconds,
            catalog.run_seconds + events_run.run_seconds,
            catalog.runs + events_run.runs,
            max(catalog.peak_rss_mb, events_run.peak_rss_mb),
        )
        figures["one more day (dagster asset materialize)"] = run_command(
            [
                "dagster", "asset", "materialize", *MODULE,
                "--select", ",".join(LOG_DATE_ASSETS), "--partition", extra.isoformat(),
            ],
            env,
            home / "cli",
        )  # fmt: skip

    print(f"\nfloor (parse + COPY + transforms, no checks): {floor:8.2f} s")
    print(
        f"\n{'path':<44}{'command s':>10}{'x floor':>9}{'runs s':>9}{'x floor':>9}"
        f"{'runs':>6}{'peak RSS MB':>13}"
    )
    for name, command in figures.items():
        one_day = name.startswith("one more day")
        print(
            f"{name:<44}{command.seconds:>10.2f}"
            f"{'' if one_day else f'{command.seconds / floor:.2f}':>9}"
            f"{command.run_seconds:>9.2f}"
            f"{'' if one_day else f'{command.run_seconds / floor:.2f}':>9}"
            f"{command.runs:>6}{command.peak_rss_mb:>13.0f}"
        )
    print(
        "\ntargets: long shape, whole commands <= 2.0x floor; dense shape, runs <= 1.5x floor and"
        " commands <= 2.0x; one more day, run <= 2 s (and within 20% of the same on 100k events);"
        " peak RSS of every Python process <= 256 MB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--shape", choices=["dense", "long", "both"], default="both")
    parser.add_argument(
        "--postgres-url", default="", help="admin URL of the server (default: the embedded one)"
    )
    args = parser.parse_args(argv)
    admin_url = args.postgres_url
    if not admin_url:
        server = EmbeddedPostgres.for_home()
        server.ensure_database("postgres")
        admin_url = server.url("postgres")
        # libpq reads it from the environment, here and in the commands this process starts.
        os.environ["PGPASSWORD"] = server.password
    for shape in ["dense", "long"] if args.shape == "both" else [args.shape]:
        real_paths(shape, args.events, admin_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
