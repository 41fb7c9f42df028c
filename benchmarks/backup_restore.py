"""Benchmark: back the warehouse up to Parquet and restore it, next to the build itself.

    python -m benchmarks.backup_restore --events 1000000          # local directory
    python -m benchmarks.backup_restore --events 1000000 --s3     # and a moto S3 server over HTTP

Steps, each in a child process of its own (so each peak memory is that step's): build the
warehouse through Dagster (the data is generated once and cached, as in benchmarks.full_build);
back every day up in one range run of ``warehouse_backup`` (plus the snapshot); drop every table;
restore everything with ``warehouse_restore``; check the restored row counts. Prints seconds, the
backup's files and bytes, and each step's peak memory.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
from psycopg import sql as pgsql

from benchmarks.full_build import cached_source, embedded_admin_url, fresh_database, shape_spec
from sparkify_assets.warehouse.tables import WAREHOUSE_TABLES

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=UserWarning)

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _resources(url: str, source: Path, backup_url: str, endpoint: str) -> dict[str, Any]:
    from sparkify_assets.defs.backup_resource import BackupResource
    from sparkify_assets.defs.resources import SourceResource, WarehouseResource

    return {
        "warehouse": WarehouseResource(url=url),
        "source": SourceResource(url=str(source)),
        "backup": BackupResource(url=backup_url, s3_endpoint_url=endpoint),
    }


def _build(url: str, source: str, days: list[date]) -> None:
    from sparkify_assets.commands.build import build_warehouse
    from sparkify_assets.definitions import defs

    outcome = build_warehouse(
        defs, resources=_resources(url, Path(source), "", ""), log_dates=days, log_level="WARNING"
    )
    assert outcome.succeeded, "build failed"


def _back_up(url: str, source: str, days: list[date], backup_url: str, endpoint: str) -> None:
    from sparkify_assets.definitions import defs

    result = dg.materialize(
        list(defs.assets),  # type: ignore[arg-type]
        selection=["warehouse_backup"],
        resources=_resources(url, Path(source), backup_url, endpoint),
        run_config=QUIET,
        tags={
            "dagster/asset_partition_range_start": days[0].isoformat(),
            "dagster/asset_partition_range_end": days[-1].isoformat(),
        },
    )
    assert result.success and all(c.passed for c in result.get_asset_check_evaluations())


def _restore(url: str, source: str, backup_url: str, endpoint: str) -> None:
    from sparkify_assets.defs.restore_job import warehouse_restore

    result = warehouse_restore.execute_in_process(
        run_config={"ops": {"restore_warehouse_from_backup": {"config": {}}}, **QUIET},
        resources=_resources(url, Path(source), backup_url, endpoint),
    )
    assert result.success


def _child(target: Callable[..., None], args: tuple[Any, ...], queue: Any) -> None:
    started = time.perf_counter()
    target(*args)
    seconds = time.perf_counter() - started
    queue.put((seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def timed(target: Callable[..., None], *args: Any) -> tuple[float, float]:
    """Runs ``target(*args)`` in a child process; returns its seconds and peak memory (MB)."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_child, args=(target, args, queue))
    process.start()
    process.join()
    if process.exitcode != 0:
        raise SystemExit(f"{target.__name__} failed")
    seconds, memory = queue.get()
    return float(seconds), float(memory)


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as connection:
        return {
            table: connection.execute(
                pgsql.SQL("SELECT COUNT(*) FROM {}").format(pgsql.Identifier(table))
            ).fetchone()[0]  # type: ignore[index]
            for table in WAREHOUSE_TABLES
        }


def drop_tables(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        for table in WAREHOUSE_TABLES:
            connection.execute(pgsql.SQL("DROP TABLE {}").format(pgsql.Identifier(table)))


def run(events: int, admin_url: str, use_s3: bool) -> None:
    spec = shape_spec("dense", events)
    source, _ = cached_source(spec)
    days = [spec.start + timedelta(days=n) for n in range(spec.days)]
    print(f"\n== {spec.days * spec.events_per_day:,} events in {spec.days} daily files")
    targets: list[tuple[str, str, str]] = []
    scratch = Path(tempfile.mkdtemp(prefix="sparkify-backup-bench-"))
    (scratch / "backup").mkdir()
    targets.append(("local directory", str(scratch / "backup"), ""))
    server = None
    if use_s3:
        import logging

        import boto3
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        ).create_bucket(Bucket="sparkify-bench")
        targets.append(("moto S3 over HTTP", "s3://sparkify-bench/warehouse", endpoint))
    try:
        with fresh_database(admin_url) as url:
            build_seconds, build_memory = timed(_build, url, str(source), days)
            built = counts(url)
            print(f"{'step':<32}{'seconds':>9}{'peak MB':>9}   notes")
            print(f"{'build (sparkify build path)':<32}{build_seconds:>9.1f}{build_memory:>9.0f}")
            for name, backup_url, endpoint in targets:
                seconds, memory = timed(_back_up, url, str(source), days, backup_url, endpoint)
                size, files = _size(backup_url, endpoint, scratch)
                print(
                    f"{'back up to ' + name:<32}{seconds:>9.1f}{memory:>9.0f}"
                    f"   {files} Parquet files, {size / 1e6:.1f} MB"
                )
            for name, backup_url, endpoint in targets:
                drop_tables(url)
                seconds, memory = timed(_restore, url, str(source), backup_url, endpoint)
                same = counts(url) == built
                print(
                    f"{'restore from ' + name:<32}{seconds:>9.1f}{memory:>9.0f}"
                    f"   row counts {'equal' if same else 'DIFFER'}"
                )
        print(f"rows: {built}")
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


def _size(backup_url: str, endpoint: str, scratch: Path) -> tuple[int, int]:
    from sparkify_assets.warehouse.backup.location import open_backup_location

    location = open_backup_location(backup_url, endpoint_url=endpoint or None)
    parquet = [o for o in location.list("") if o.key.endswith(".parquet")]
    return sum(o.size for o in parquet), len(parquet)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--s3", action="store_true", help="also back up to a moto S3 server")
    parser.add_argument("--postgres-url", default="", help="admin URL (default: embedded)")
    args = parser.parse_args(argv)
    admin_url = args.postgres_url or embedded_admin_url()
    run(args.events, admin_url, args.s3)
    return 0


if __name__ == "__main__":
    sys.exit(main())
