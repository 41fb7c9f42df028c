"""How long a log_data sensor tick takes with thousands of keys under log_data/.

By default against a local S3-compatible server (moto, on 127.0.0.1, started here) holding
``--keys`` keys under ``log_data/``: one log file for every day from 2018-11-01 to today (the
partitions that exist) and, to reach the count, keys that do not follow the layout. With
``--url s3://bucket/prefix`` it ticks against that bucket instead (read-only; the AWS credential
chain and ``AWS_ENDPOINT_URL`` apply).

    .venv/bin/python benchmarks/sensor_tick.py [--keys 5000] [--repeat 5] [--url s3://...]

Prints the time of: the first tick (a full listing; one run request per day), a quiet tick (the
incremental listing, keys after the newest only), a tick with a due full listing and nothing new,
and, on the local server, a full listing that finds one re-uploaded day. Each tick includes building
the S3 client, as the daemon does.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import dagster as dg


def _log_keys(count: int) -> list[str]:
    from sparkify_assets.source.layout import log_key_for

    first, today = date(2018, 11, 1), datetime.now(UTC).date()
    days = [first + timedelta(days=n) for n in range((today - first).days + 1)][:count]
    keys = [log_key_for(day) for day in days]
    keys += [f"log_data/manifests/part-{n:05d}.json" for n in range(count - len(keys))]
    return keys


def _start_local_bucket(keys: list[str]) -> tuple[str, Callable[[str], None]]:
    """A moto server on 127.0.0.1 holding ``keys``; returns the source URL and a writer."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    import boto3
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://{host}:{port}",
        AWS_ACCESS_KEY_ID="benchmark",
        AWS_SECRET_ACCESS_KEY="benchmark",
        AWS_DEFAULT_REGION="us-east-1",
    )
    client = boto3.client("s3")
    client.create_bucket(Bucket="sparkify-benchmark")
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    for n, key in enumerate(keys):  # straight into the server's storage: seconds, not minutes
        backend.put_object("sparkify-benchmark", f"raw/{key}", f'{{"n": {n}}}\n'.encode())

    def write(key: str) -> None:
        client.put_object(Bucket="sparkify-benchmark", Key=f"raw/{key}", Body=b'{"n": -1}\n')

    return "s3://sparkify-benchmark/raw", write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--url", default="", help="s3://bucket/prefix (default: a local server)")
    args = parser.parse_args(argv)

    warnings.filterwarnings("ignore")
    logging.getLogger("dagster").setLevel(logging.WARNING)
    from sparkify_assets.definitions import defs
    from sparkify_assets.defs.resources import SourceResource
    from sparkify_assets.defs.source_sensors import log_data_sensor
    from sparkify_assets.source.layout import log_key_for

    write: Callable[[str], None] | None = None
    if args.url:
        url = args.url
        print(f"bucket: {url}")
    else:
        keys = _log_keys(args.keys)
        url, write = _start_local_bucket(keys)
        print(f"local S3 server (moto) with {len(keys)} keys under log_data/")

    instance = dg.DagsterInstance.ephemeral()
    cursor: str | None = None

    def tick(full_listing_interval: int) -> tuple[float, int]:
        nonlocal cursor
        context = dg.build_sensor_context(
            instance=instance,
            cursor=cursor,
            definitions=defs,
            resources={
                "source": SourceResource(
                    url=url, log_full_listing_interval_seconds=full_listing_interval
                )
            },
        )
        started = time.perf_counter()
        data = log_data_sensor.evaluate_tick(context)
        elapsed = time.perf_counter() - started
        cursor = data.cursor
        return elapsed, len(data.run_requests or [])

    def report(label: str, interval: int, repeat: int) -> None:
        runs = [tick(interval) for _ in range(repeat)]
        times = [t for t, _ in runs]
        print(
            f"{label:<52} {statistics.median(times):7.3f} s median"
            f" (min {min(times):.3f}, max {max(times):.3f}, n={repeat});"
            f" run requests: {runs[-1][1]}"
        )

    report("first tick (full listing, every day requested)", 0, 1)
    report("quiet tick (incremental listing)", 3600, args.repeat)
    report("tick with a due full listing, nothing new", 0, args.repeat)
    if write is not None:
        write(log_key_for(date(2019, 6, 1)))
        report("full listing finding one re-uploaded day", 0, 1)
    print(f"cursor size: {len(cursor or '')} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
