"""Benchmark: a full warehouse build through Dagster against the hardware floor, in one process.

    python -m benchmarks.full_build --events 1000000 --shape dense
    python -m benchmarks.full_build --events 1000000 --shape long
    python -m benchmarks.full_build --incremental 100000 1000000

Steps (full build): generate the data once (cached under <sparkify home>/benchmark/), build every
asset and check through Dagster into a fresh database (the code path `sparkify build` runs), then
measure the floor in another fresh database: a bare loop that reads, parses (orjson) and COPYs the
same staging rows, plus the same transform SQL run directly. Prints seconds per stage, events per
second, the process's peak memory and the ratio build / floor.

Incremental: with N events already loaded (days of ~3,334 events), materialize one more day through
Dagster, three times (three new days in turn), and print the median time, for each N given.

Targets (issue 6) live here, never in the test suite: it only runs this at a tiny size.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import sys
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
import orjson
import psycopg
from psycopg import sql as pgsql

from sparkify_assets.commands.build import RunSummary, build_warehouse
from sparkify_assets.definitions import defs
from sparkify_assets.defs.asset_groups import LOG_DATE_ASSETS
from sparkify_assets.defs.backup_resource import BackupResource
from sparkify_assets.defs.resources import SourceResource, WarehouseResource
from sparkify_assets.sample_data.generator import write_sample_source
from sparkify_assets.sample_data.spec import SampleSpec
from sparkify_assets.settings.project_home import sparkify_home
from sparkify_assets.warehouse.interface import transform_statements
from sparkify_assets.warehouse.load_window import LoadWindow
from sparkify_assets.warehouse.postgres.embedded_server import EmbeddedPostgres
from sparkify_assets.warehouse.postgres.engine import PostgresWarehouse
from sparkify_assets.warehouse.sql_files import statement

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=UserWarning)

CATALOG_SONGS = 15_000
INCREMENTAL_DAY_EVENTS = 3_334
INCREMENTAL_NEW_DAYS = 3


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def shape_spec(shape: str, events: int) -> SampleSpec:
    """Dense: about one month of days. Long: thousands of days of ~333 events."""
    if shape == "dense":
        days = 30
    elif shape == "long":
        days = max(1, events // 333)
    else:
        raise ValueError(shape)
    per_day = max(1, round(events / days))
    songs = min(CATALOG_SONGS, max(4, events // 60))
    return SampleSpec(seed=2018, days=days, events_per_day=per_day, catalog_songs=songs)


def cached_source(spec: SampleSpec) -> tuple[Path, float]:
    """The generated tree for ``spec`` (made once), and how long generating took (0 if cached)."""
    root = (
        sparkify_home()
        / "benchmark"
        / (f"s{spec.seed}-d{spec.days}-e{spec.events_per_day}-c{spec.catalog_songs}")
    )
    if (root / "log_data").is_dir():
        return root, 0.0
    root.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    # In a child process, so the peak memory printed below is the build's, not the generator's.
    generator = multiprocessing.get_context("spawn").Process(
        target=write_sample_source, args=(root, spec)
    )
    generator.start()
    generator.join()
    if generator.exitcode != 0:
        raise SystemExit(f"generating {root} failed")
    return root, time.perf_counter() - started


def warm_file_cache(source: Path) -> None:
    """Reads every source file once, untimed, so neither measurement pays for a cold page cache
    that the other does not (the Dagster build runs first)."""
    for path in source.rglob("*.json"):
        with path.open("rb") as file:
            while file.read(1 << 20):
                pass


def embedded_admin_url() -> str:
    """The admin URL (database ``postgres``) of the embedded server, started if needed. The URL
    holds no password: it goes to ``PGPASSWORD``, which libpq reads here, in the processes this
    one starts and in the Dagster runs."""
    server = EmbeddedPostgres.for_home()
    server.ensure_database("postgres")
    os.environ["PGPASSWORD"] = server.password
    return server.url("postgres")


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name)))
        # Flush what earlier measurements left in the WAL, so this one does not pay for it.
        admin.execute("CHECKPOINT")
    try:
        yield urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(
                pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name))
            )


@dataclass
class Timings:
    stages: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - started

    @property
    def total(self) -> float:
        return sum(self.stages.values())


def dagster_build(source: Path, url: str, days: list[date]) -> tuple[Timings, dict[str, float]]:
    """Everything through Dagster, as `sparkify build` does it."""
    timings = Timings()
    resources = {
        "warehouse": WarehouseResource(url=url),
        "source": SourceResource(url=str(source)),
        "backup": BackupResource(),
    }
    with timings.stage("dagster build (catalog + events + checks)"):
        outcome = build_warehouse(
            defs,
            resources=resources,
            log_dates=days,
            log_level="WARNING",
        )
    if not outcome.succeeded:
        raise SystemExit("the Dagster build failed: see the log above")
    steps: dict[str, float] = {}
    for run in outcome.runs:
        for step, seconds in run.step_seconds.items():
            steps[step] = steps.get(step, 0.0) + seconds
    return timings, steps


def floor_build(source: Path, url: str, days: list[date]) -> Timings:
    """The floor: a bare read + parse + COPY of the same staging rows, then the same transforms."""
    timings = Timings()
    with PostgresWarehouse(url) as warehouse:
        warehouse.ensure_tables()  # the same DDL (not timed)
    columns = statement("postgres/copy.staging_events").text
    songs_copy = statement("postgres/copy.staging_songs").text
    with psycopg.connect(url) as connection:
        with timings.stage("read + parse + COPY songs"), connection.cursor() as cursor:
            with cursor.copy(songs_copy) as copy:  # type: ignore[arg-type]
                for path in sorted((source / "song_data").rglob("*.json")):
                    s = orjson.loads(path.read_bytes())
                    copy.write_row(
                        (
                            s["num_songs"],
                            s["artist_id"],
                            s["artist_latitude"],
                            s["artist_longitude"],
                            s["artist_location"],
                            s["artist_name"],
                            s["song_id"],
                            s["title"],
                            s["duration"],
                            s["year"],
                            path.name,
                        )
                    )
            connection.commit()
        with timings.stage("read + parse + COPY events"), connection.cursor() as cursor:
            with cursor.copy(columns) as copy:  # type: ignore[arg-type]
                for day in days:
                    path = source / f"log_data/{day:%Y/%m}/{day:%Y-%m-%d}-events.json"
                    key = str(path)
                    with path.open("rb") as lines:
                        for number, line in enumerate(lines, 1):
                            e = orjson.loads(line)
                            r = e["registration"]
                            copy.write_row(
                                (
                                    day,
                                    e["artist"],
                                    e["auth"],
                                    e["firstName"],
                                    e["gender"],
                                    e["itemInSession"],
                                    e["lastName"],
                                    e["length"],
                                    e["level"],
                                    e["location"],
                                    e["method"],
                                    e["page"],
                                    None if r is None else int(r),
                                    e["sessionId"],
                                    e["song"],
                                    e["status"],
                                    e["ts"],
                                    e["userAgent"],
                                    e["userId"] or None,
                                    key,
                                    number,
                                )
                            )
            analyze = statement("postgres/upkeep.analyze_table").text
            # As the loads do. The star tables' ANALYZE after their transforms (0.3 s at 1M) is
            # left out of the floor: the build pays it, so the ratios err on the build's side.
            for table in ("staging_events", "staging_songs"):
                connection.execute(pgsql.SQL(analyze).format(table=pgsql.Identifier(table)))
            connection.commit()
        window = LoadWindow(days[0], days[-1] + timedelta(days=1)).sql_params()
        for table in ("songs", "artists", "users", "songplays", "time"):
            with timings.stage(f"transform {table}"):
                for sql in transform_statements(table):
                    connection.execute(sql.text, window)  # type: ignore[arg-type]
                connection.commit()
    return timings


def _median_stages(runs: list[dict[str, float]]) -> dict[str, float]:
    return {name: statistics.median(run.get(name, 0.0) for run in runs) for name in runs[0]}


def full_build(shape: str, events: int, admin_url: str, repeat: int = 1) -> None:
    spec = shape_spec(shape, events)
    source, generated = cached_source(spec)
    days = [spec.start + timedelta(days=n) for n in range(spec.days)]
    total_events = spec.days * spec.events_per_day
    print(
        f"\n== {shape} shape: {total_events:,} events in {spec.days:,} daily files,"
        f" {spec.catalog_songs:,} song files"
    )
    if generated:
        print(f"generated the data in {generated:.1f} s (not part of any figure below)")

    memory_before = peak_memory_mb()
    builds: list[Timings] = []
    steps: list[dict[str, float]] = []
    floors: list[Timings] = []
    for _ in range(repeat):  # build and floor in turns, so a slow spell of the machine hits both
        with fresh_database(admin_url) as url:
            warm_file_cache(source)
            build, build_steps = dagster_build(source, url, days)
        builds.append(build)
        steps.append(build_steps)
        with fresh_database(admin_url) as url:
            warm_file_cache(source)
            floors.append(floor_build(source, url, days))
    memory_build = peak_memory_mb()

    build_total = statistics.median(b.total for b in builds)
    floor_total = statistics.median(f.total for f in floors)
    median_of = f" (median of {repeat} runs)" if repeat > 1 else ""
    print(f"\n{'stage' + median_of:<44}{'seconds':>10}")
    for name, seconds in _median_stages(steps).items():
        print(f"  dagster step {name:<31}{seconds:>10.2f}")
    print(f"{'dagster build (catalog + events + checks)':<44}{build_total:>10.2f}")
    for name, seconds in _median_stages([f.stages for f in floors]).items():
        print(f"  floor: {name:<36}{seconds:>10.2f}")
    print(f"{'floor total':<44}{floor_total:>10.2f}")
    print(f"\nevents per second, Dagster build: {total_events / build_total:>12,.0f}")
    print(f"events per second, floor:         {total_events / floor_total:>12,.0f}")
    print(f"ratio build / floor:              {build_total / floor_total:>12.2f}")
    if repeat > 1:
        each = ", ".join(f"{b.total / f.total:.2f}" for b, f in zip(builds, floors, strict=True))
        print(f"ratio of each run:                {each:>12}")
    print(
        f"peak memory of this process:      {memory_build:>9.0f} MB"
        f" (before the build: {memory_before:.0f} MB)"
    )


def incremental(history_events: list[int], admin_url: str) -> None:
    print(
        f"\n== one more day (~{INCREMENTAL_DAY_EVENTS:,} events) on top of N events"
        f" (median of {INCREMENTAL_NEW_DAYS} new days, added one after another)"
    )
    print(f"{'N events loaded':>16}{'days':>7}{'one more day, s':>18}")
    for events in history_events:
        history_days = max(1, round(events / INCREMENTAL_DAY_EVENTS))
        spec = SampleSpec(
            seed=2019,
            days=history_days + INCREMENTAL_NEW_DAYS,
            events_per_day=INCREMENTAL_DAY_EVENTS,
            catalog_songs=min(CATALOG_SONGS, 2_000),
        )
        source, _ = cached_source(spec)
        days = [spec.start + timedelta(days=n) for n in range(spec.days)]
        measured: list[tuple[float, dict[str, float]]] = []
        with fresh_database(admin_url) as url, dg.DagsterInstance.ephemeral() as instance:
            resources = {
                "warehouse": WarehouseResource(url=url),
                "source": SourceResource(url=str(source)),
                "backup": BackupResource(),
            }
            history = build_warehouse(
                defs,
                resources=resources,
                log_dates=days[:history_days],
                log_level="WARNING",
                instance=instance,
            )
            if not history.succeeded:
                raise SystemExit("loading the history failed")
            for day in days[history_days:]:
                started = time.perf_counter()
                one_day = dg.materialize(
                    list(defs.assets),  # type: ignore[arg-type]
                    selection=list(LOG_DATE_ASSETS),
                    partition_key=day.isoformat(),
                    resources=resources,
                    instance=instance,
                    run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
                )
                seconds = time.perf_counter() - started
                assert one_day.success
                measured.append((seconds, RunSummary.of(one_day).step_seconds))
        seconds, steps = sorted(measured, key=lambda m: m[0])[len(measured) // 2]
        each = ", ".join(f"{s:.2f}" for s, _ in measured)
        detail = ", ".join(f"{k} {v:.2f}" for k, v in steps.items())
        print(
            f"{history_days * INCREMENTAL_DAY_EVENTS:>16,}{history_days:>7}{seconds:>18.2f}"
            f"   (each: {each}; steps of the median: {detail})"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--shape", choices=["dense", "long", "both"], default="both")
    parser.add_argument(
        "--incremental",
        type=int,
        nargs="*",
        metavar="N",
        default=None,
        help="also measure one more day on top of N loaded events (each N)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run build and floor this many times each, in turns; print medians",
    )
    parser.add_argument("--skip-full-build", action="store_true")
    parser.add_argument(
        "--postgres-url",
        default="",
        help="admin URL of the server to use (default: the embedded one)",
    )
    args = parser.parse_args(argv)
    admin_url = args.postgres_url or embedded_admin_url()
    if not args.skip_full_build:
        for shape in ["dense", "long"] if args.shape == "both" else [args.shape]:
            full_build(shape, args.events, admin_url, args.repeat)
    if args.incremental:
        incremental(args.incremental, admin_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
