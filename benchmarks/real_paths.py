"""Benchmark: the commands a user types, on the project's Dagster instance, against the floor.

    python -m benchmarks.real_paths --events 1000000 --shape long --repeat 3
    python -m benchmarks.real_paths --events 1000000 --shape dense
    python -m benchmarks.real_paths --events 100000 --shape long     # the 100k reference day

For one generated source (cached as in ``full_build``), each in fresh databases of one server:

1. the floor (``full_build.floor_build``: read + parse + COPY + the transforms, no checks);
2. ``sparkify build`` as a subprocess (its own instance, storage on PostgreSQL);
3. ``sparkify dagster asset materialize`` twice (the catalog, then ``--partition-range`` over every
   day but the last), as a subprocess each, on another fresh instance; then
4. one more day on top (the last day) through ``sparkify dagster asset materialize --partition``;
5. the daemon alone (``sparkify daemon``: sensors, automation, run queue, backfills; no command) on
   a fresh instance and an empty warehouse, watching the same history: timed from its start until
   every day of every table is materialized, every analytics answer is computed after the latest
   change of the tables it reads and no run or backfill is left. Printed beside it: the time no
   run existed (the daemon waiting for a sensor, automation or backfill tick), each run it launched
   (kind, days, queued-and-starting seconds, RUN_START..RUN_SUCCESS seconds), and the peak RSS of
   the daemon, its code server and its run workers.

Printed: each command's wall time (process start included), the runs' own time as Dagster records
it (RUN_START to RUN_SUCCESS, summed over the command's runs), each ratio to the floor, the peak RSS
of the largest Python process of each command (the CLI and everything it starts, sampled by role:
``session_memory``; the PostgreSQL server excluded), with the date, the machine's cores and the
Dagster version. Targets (issue 13) are printed beside the figures; nothing asserts them.

``--paths build`` (or ``cli``, ``daemon``, several comma-separated) measures only those paths, with
the floor: e.g. ``--events 10000000 --shape long --paths build`` for the peak RSS at 10M events.
``--repeat N`` measures N rounds (the floor, then each path) and prints the medians, each ratio
against its own round's floor, with every round's ratio beside them.
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
from dagster._core.execution.backfill import BulkActionStatus

import sparkify_assets
from benchmarks.full_build import cached_source, floor_build, fresh_database, shape_spec
from benchmarks.session_memory import SessionMemory
from sparkify_assets.defs.asset_groups import ANALYTICS_GROUP, CATALOG_ASSETS, LOG_DATE_ASSETS
from sparkify_assets.defs.source_sensors import (
    LOG_DATA_INTERVAL_SECONDS,
    SONG_DATA_INTERVAL_SECONDS,
)
from sparkify_assets.warehouse.postgres.embedded_server import EmbeddedPostgres

SPARKIFY = str(Path(sys.executable).parent / "sparkify")
MODULE = ["-m", "sparkify_assets.definitions"]
LONG_DAYS = 2_859  # 2018-11-01 .. 2026-09-07: the long shape
PATHS = ("build", "cli", "daemon")
AUTOMATION_INTERVAL_SECONDS = 30  # defs/star_schema_automation.py
DAEMON_TIMEOUT_SECONDS = 3_600
UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


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
        process = subprocess.Popen(
            [SPARKIFY, *args], env=env, stdout=output, stderr=output, start_new_session=True
        )
        memory = SessionMemory(process.pid).start()
        # wait4: this command's own resource usage, its waited-for children included (the
        # largest process of its tree for ru_maxrss, in KiB on Linux).
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        memory.stop()
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            output.seek(0)
            sys.stdout.write(output.read().decode(errors="replace")[-5000:])
            raise SystemExit(f"`sparkify {' '.join(args)}` failed ({process.returncode})")
    with dg.DagsterInstance.from_config(str(instance_dir)) as instance:
        run_ids = [r.run_id for r in instance.get_runs() if r.run_id not in before]
        run_seconds = _run_seconds(instance, run_ids)
    peak = max([usage.ru_maxrss / 1024, *memory.peak_mb_by_role().values()])
    return Command(seconds, run_seconds, len(run_ids), peak)


@dataclass
class LaunchedRun:
    """A run the daemon launched: what it wrote, and when (epoch seconds)."""

    kind: str  # catalog, staging_events, star tables, analytics
    days: int
    created: float
    started: float
    ended: float


@dataclass
class DaemonFigures:
    seconds: float
    idle_seconds: float  # no run queued, starting or running: waiting for a tick
    runs: list[LaunchedRun] = field(default_factory=list)
    backfills: int = 0
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    run_workers: int = 0

    @property
    def run_seconds(self) -> float:
        return sum(r.ended - r.started for r in self.runs)


def _planned_assets(instance: dg.DagsterInstance, run_id: str) -> set[str]:
    """The assets a run planned to materialize (a sensor's run names none in its selection)."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
    ).records
    return {
        r.event_log_entry.dagster_event.asset_key.to_user_string()  # type: ignore[union-attr]
        for r in records
    }


def _run_kind(selected: set[str], analytics: Mapping[dg.AssetKey, object]) -> str:
    if "staging_events" in selected:
        return "staging_events"
    if selected & set(CATALOG_ASSETS):
        return "catalog"
    if selected & set(LOG_DATE_ASSETS):
        return "star tables"
    if {dg.AssetKey(name) for name in selected} & set(analytics):
        return "analytics"
    return ",".join(sorted(selected)) or "other"


def _run_days(run: dg.DagsterRun) -> int:
    tags = run.tags
    if "dagster/asset_partition_range_start" in tags:
        first, last = (
            date.fromisoformat(tags[f"dagster/asset_partition_range_{end}"])
            for end in ("start", "end")
        )
        return (last - first).days + 1
    return 1 if "dagster/partition" in tags else 0


def _analytics_keys() -> dict[dg.AssetKey, set[dg.AssetKey]]:
    """Each analytics answer, with the tables it reads."""
    from sparkify_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    return {
        key: set(graph.get(key).parent_keys)
        for key in graph.materializable_asset_keys
        if graph.get(key).group_name == ANALYTICS_GROUP
    }


def _daemon_done(
    instance: dg.DagsterInstance, days: set[str], analytics: dict[dg.AssetKey, set[dg.AssetKey]]
) -> bool:
    """Every day of every table materialized, the catalog loaded, every analytics answer computed
    after the latest change of the tables it reads, no run or backfill left."""
    if instance.get_runs(filters=dg.RunsFilter(statuses=UNFINISHED), limit=1):
        return False
    failed = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
    if failed:
        raise SystemExit(f"the daemon's run {failed[0].run_id} failed ({failed[0].job_name})")
    if instance.get_backfills(status=BulkActionStatus.REQUESTED):
        return False
    if any(
        instance.get_latest_materialization_event(dg.AssetKey(a)) is None for a in CATALOG_ASSETS
    ):
        return False
    if not all(
        days <= instance.get_materialized_partitions(dg.AssetKey(asset))
        for asset in LOG_DATE_ASSETS
    ):
        return False
    return all(
        _latest_materialization_time(instance, answer)
        >= max(_latest_materialization_time(instance, table) for table in tables)
        for answer, tables in analytics.items()
    )


def _latest_materialization_time(instance: dg.DagsterInstance, key: dg.AssetKey) -> float:
    event = instance.get_latest_materialization_event(key)
    return event.timestamp if event is not None else 0.0


def _uncovered_seconds(start: float, end: float, busy: list[tuple[float, float]]) -> float:
    """The time between ``start`` and ``end`` outside every ``busy`` interval."""
    covered, reach = 0.0, start
    for first, last in sorted(busy):
        first, last = max(first, reach), min(last, end)
        if last > first:
            covered += last - first
            reach = last
    return (end - start) - covered


def daemon_alone(env: dict[str, str], home: Path, days: set[str]) -> DaemonFigures:
    """Starts ``sparkify daemon`` on a fresh instance and waits until it has loaded ``days``."""
    instance_dir = home / "dagster_home"
    log_path = home / "daemon.log"
    home.mkdir(parents=True, exist_ok=True)
    analytics = _analytics_keys()
    with log_path.open("wb") as log:
        started_at = time.time()
        process = subprocess.Popen(
            [SPARKIFY, "daemon"], env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    memory = SessionMemory(process.pid).start()
    try:
        deadline = time.monotonic() + DAEMON_TIMEOUT_SECONDS
        while not (instance_dir / "dagster.yaml").exists():
            time.sleep(0.2)
        with dg.DagsterInstance.from_config(str(instance_dir)) as instance:
            while not _daemon_done(instance, days, analytics):
                if process.poll() is not None or time.monotonic() > deadline:
                    sys.stdout.write(log_path.read_text(errors="replace")[-5000:])
                    raise SystemExit("the daemon stopped or timed out before loading every day")
                time.sleep(1)
            done_at = time.time()
            runs = []
            for run in instance.get_runs():
                record = instance.get_run_record_by_id(run.run_id)
                stamps = {
                    event_type: instance.get_records_for_run(run.run_id, of_type=event_type)
                    .records[0]
                    .event_log_entry.timestamp
                    for event_type in (
                        dg.DagsterEventType.RUN_START,
                        dg.DagsterEventType.RUN_SUCCESS,
                    )
                }
                kind = _run_kind(_planned_assets(instance, run.run_id), analytics)
                if kind == "other":  # no asset planned: say what it was and who launched it
                    launched_by = run.tags.get("dagster/sensor_name") or run.tags.get(
                        "dagster/backfill", "?"
                    )
                    kind = f"other ({run.job_name}, by {launched_by})"
                runs.append(
                    LaunchedRun(
                        kind,
                        _run_days(run),
                        record.create_timestamp.timestamp(),  # type: ignore[union-attr]
                        stamps[dg.DagsterEventType.RUN_START],
                        stamps[dg.DagsterEventType.RUN_SUCCESS],
                    )
                )
            backfills = len(instance.get_backfills())
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        memory.stop()
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # what is left of its code server
    runs.sort(key=lambda r: r.created)
    idle = _uncovered_seconds(started_at, done_at, [(r.created, r.ended) for r in runs])
    return DaemonFigures(
        seconds=done_at - started_at,
        idle_seconds=idle,
        runs=runs,
        backfills=backfills,
        peak_rss_mb=memory.peak_mb_by_role(),
        run_workers=memory.processes_of("run worker"),
    )


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


def real_paths(
    shape: str,
    events: int,
    admin_url: str,
    paths: tuple[str, ...] = PATHS,
    repeat: int = 1,
) -> None:
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
        + (f"; medians of {repeat} rounds (floor, then each path)" if repeat > 1 else ""),
        flush=True,
    )
    rounds = [
        _one_round(source, history_source, history, extra, admin_url, paths)
        for _ in range(repeat)  # the floor in every round: a slow spell of the machine hits both
    ]
    floors = [floor for floor, _, _ in rounds]
    floor = statistics.median(floors)
    spread = f" (of {', '.join(f'{f:.2f}' for f in floors)})" if repeat > 1 else ""
    print(f"\nfloor (parse + COPY + transforms, no checks): {floor:8.2f} s{spread}")
    names = list(rounds[0][1])
    if names:
        print(
            f"\n{'path':<44}{'command s':>10}{'x floor':>9}{'runs s':>9}{'x floor':>9}"
            f"{'runs':>6}{'peak RSS MB':>13}"
        )
    for name in names:
        each = [(figures[name], round_floor) for round_floor, figures, _ in rounds]
        seconds = statistics.median(c.seconds for c, _ in each)
        run_seconds = statistics.median(c.run_seconds for c, _ in each)
        ratio = statistics.median(c.seconds / f for c, f in each)
        run_ratio = statistics.median(c.run_seconds / f for c, f in each)
        one_day = name.startswith("one more day")
        print(
            f"{name:<44}{seconds:>10.2f}"
            f"{'' if one_day else f'{ratio:.2f}':>9}"
            f"{run_seconds:>9.2f}"
            f"{'' if one_day else f'{run_ratio:.2f}':>9}"
            f"{each[0][0].runs:>6}{max(c.peak_rss_mb for c, _ in each):>13.0f}"
        )
        if repeat > 1 and not one_day:
            print(
                f"{'  ratios of each round':<44}"
                + ", ".join(f"{c.seconds / f:.2f}" for c, f in each)
            )
    for round_floor, _, daemon in rounds:
        if daemon is not None:
            print_daemon(daemon, round_floor)
    print(
        "\ntargets: long shape, whole commands <= 2.0x floor, the daemon alone <= 3.0x floor plus"
        " the tick intervals it waits for; dense shape, runs <= 1.5x floor and commands <= 2.0x;"
        " one more day, run <= 2 s (and within 20% of the same on 100k events); peak RSS of every"
        " Python process <= 256 MB"
    )


def _one_round(
    source: Path,
    history_source: Path,
    history: list[date],
    extra: date,
    admin_url: str,
    paths: tuple[str, ...],
) -> tuple[float, dict[str, Command], DaemonFigures | None]:
    """The floor, then each path in fresh databases and a fresh instance."""
    with fresh_database(admin_url) as url:
        floor = floor_build(source, url, history).total

    def fresh_environment(stack: ExitStack, name: str, tree: Path) -> tuple[dict[str, str], Path]:
        home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sparkify-bench-")))
        warehouse = stack.enter_context(fresh_database(admin_url))
        storage = _storage_url(stack.enter_context(fresh_database(admin_url)))
        return _environment(home / name, warehouse, storage, tree), home / name

    figures: dict[str, Command] = {}
    if "build" in paths:
        with ExitStack() as stack:
            env, home = fresh_environment(stack, "build", history_source)
            figures["sparkify build"] = run_command(["build"], env, home)

    if "cli" in paths:
        with ExitStack() as stack:
            env, home = fresh_environment(stack, "cli", source)
            catalog = run_command(
                ["dagster", "asset", "materialize", *MODULE, "--select", ",".join(CATALOG_ASSETS)],
                env,
                home,
            )
            events_run = run_command(
                [
                    "dagster", "asset", "materialize", *MODULE,
                    "--select", ",".join(LOG_DATE_ASSETS),
                    "--partition-range", f"{history[0]}...{history[-1]}",
                ],
                env,
                home,
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
                home,
            )  # fmt: skip

    daemon: DaemonFigures | None = None
    if "daemon" in paths:
        with ExitStack() as stack:
            env, home = fresh_environment(stack, "daemon", history_source)
            daemon = daemon_alone(env, home, {day.isoformat() for day in history})
    return floor, figures, daemon


def print_daemon(daemon: DaemonFigures, floor: float) -> None:
    kinds: dict[str, int] = {}
    for run in daemon.runs:
        kinds[run.kind] = kinds.get(run.kind, 0) + 1
    busy = daemon.seconds - daemon.idle_seconds
    print(
        f"\ndaemon alone (`sparkify daemon`, empty warehouse, no command):"
        f" {daemon.seconds:.2f} s = {daemon.seconds / floor:.2f}x floor"
    )
    print(
        f"  waiting for ticks (no run queued, starting or running): {daemon.idle_seconds:.2f} s;"
        f" the rest: {busy:.2f} s = {busy / floor:.2f}x floor"
        f" (ticks: log sensor {LOG_DATA_INTERVAL_SECONDS} s, song sensor"
        f" {SONG_DATA_INTERVAL_SECONDS} s, automation {AUTOMATION_INTERVAL_SECONDS} s)"
    )
    print(
        f"  runs launched: {len(daemon.runs)} ("
        + ", ".join(f"{kind} {count}" for kind, count in kinds.items())
        + f"), from {daemon.backfills} automation backfill(s);"
        f" RUN_START..RUN_SUCCESS summed {daemon.run_seconds:.2f} s"
        f" = {daemon.run_seconds / floor:.2f}x floor"
    )
    print(f"  {'run':<16}{'days':>6}{'queued+start s':>16}{'run s':>9}")
    for run in daemon.runs:
        print(
            f"  {run.kind:<16}{run.days:>6}{run.started - run.created:>16.2f}"
            f"{run.ended - run.started:>9.2f}"
        )
    print(
        "  peak RSS MB: "
        + ", ".join(f"{role} {mb:.0f}" for role, mb in sorted(daemon.peak_rss_mb.items()))
        + f" ({daemon.run_workers} run worker processes seen)"
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
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds (floor, then each path); medians printed, with each round's ratio",
    )
    parser.add_argument(
        "--paths",
        default=",".join(PATHS),
        help=f"which of {', '.join(PATHS)} to measure, comma-separated (default: all)",
    )
    args = parser.parse_args(argv)
    paths = tuple(p.strip() for p in args.paths.split(",") if p.strip())
    if not paths or set(paths) - set(PATHS):
        parser.error(f"--paths takes some of {', '.join(PATHS)}")
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        # Then no command writes the project's bytecode, and every process measured would compile
        # its modules again (0.1-0.2 s each), which a user's second command never does: compiled
        # once here, as the first command of a normal environment leaves them.
        compileall.compile_dir(Path(sparkify_assets.__file__).parent, quiet=1)
        print("PYTHONDONTWRITEBYTECODE is set: the project's bytecode compiled once beforehand")
    admin_url = args.postgres_url
    if not admin_url:
        server = EmbeddedPostgres.for_home()
        server.ensure_database("postgres")
        admin_url = server.url("postgres")
        # libpq reads it from the environment, here and in the commands this process starts.
        os.environ["PGPASSWORD"] = server.password
    for shape in ["dense", "long"] if args.shape == "both" else [args.shape]:
        real_paths(shape, args.events, admin_url, paths, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
