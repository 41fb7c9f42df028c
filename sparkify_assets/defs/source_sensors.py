"""Sensors on the source tree: new or changed days under log_data/ load ``staging_events`` (a range
run per stretch of days); a change under song_data/ reloads the catalog
(docs/sources_and_sensors.md)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from datetime import date, timedelta

import dagster as dg

from sparkify_assets.defs.asset_groups import CATALOG_ASSETS
from sparkify_assets.defs.log_date_partitions import (
    MAX_DAYS_PER_RUN,
    contiguous_ranges,
    log_date_partitions,
    partition_range_tags,
)
from sparkify_assets.defs.resources import SourceResource
from sparkify_assets.instance.loaded_source_versions import (
    loaded_catalog_digest,
    loaded_log_file_versions,
)
from sparkify_assets.settings.problems import SettingProblem
from sparkify_assets.source.change_cursors import LogFileChange, LogFileCursor, catalog_digest
from sparkify_assets.source.layout import LOG_PREFIX, SONG_PREFIX, is_song_key
from sparkify_assets.source.listing import list_source_files
from sparkify_assets.source.problems import reported_source_problems

LOG_DATA_INTERVAL_SECONDS = 30
SONG_DATA_INTERVAL_SECONDS = 300  # the catalog check lists all of song_data/: not every 30 s


def log_range_run_requests(
    changes: Sequence[LogFileChange], max_days: int = MAX_DAYS_PER_RUN
) -> list[dg.RunRequest]:
    """One run per contiguous range of changed days (the assets' single-run backfill policy runs
    it as one set-based step per asset), split only where a range would exceed ``max_days``. The
    run key is unique per set of uploads: the same range changed again is a new run."""
    by_day = {change.day: change for change in changes}
    requests = []
    for first, last in contiguous_ranges(list(by_day), max_days):
        uploads = [by_day[first + timedelta(days=n)] for n in range((last - first).days + 1)]
        digest = hashlib.sha256("\n".join(c.run_key for c in uploads).encode()).hexdigest()
        if first == last:
            requests.append(
                dg.RunRequest(
                    run_key=uploads[0].run_key,
                    partition_key=first.isoformat(),
                    tags={
                        "sparkify/source_key": uploads[0].file.key,
                        "sparkify/source_version": uploads[0].file.version,
                    },
                )
            )
        else:
            requests.append(
                dg.RunRequest(
                    run_key=f"log_data/{first}..{last}@{digest[:24]}",
                    tags={
                        **partition_range_tags(first, last),
                        "sparkify/source_files": str(len(uploads)),
                    },
                )
            )
    return requests


def _partition_days() -> tuple[date, date]:
    """The first and last day that are partitions now (the last moves forward every day)."""
    last = log_date_partitions.get_last_partition_key()
    if last is None:
        raise RuntimeError("log_date_partitions has no partition yet")
    return log_date_partitions.start.date(), date.fromisoformat(last)


@dg.sensor(
    name="log_data_sensor",
    description=(
        "Requests staging_events for the log date of every new log_data/ file, and again when a"
        " known file changes (new ETag): one run per contiguous range of such days (at most"
        f" {MAX_DAYS_PER_RUN} days a run). New days are found on every tick by listing only"
        " the keys after the newest one; late and re-uploaded files by a full listing of"
        " log_data/ every `log_full_listing_interval_seconds` (source resource)."
    ),
    target=dg.AssetSelection.assets("staging_events"),
    minimum_interval_seconds=LOG_DATA_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def log_data_sensor(context: dg.SensorEvaluationContext, source: SourceResource) -> dg.SensorResult:
    cursor = LogFileCursor.from_json(context.cursor)
    started_at = time.time()
    first_day, last_day = _partition_days()
    full = cursor.needs_full_listing(started_at, source.log_full_listing_interval_seconds)
    try:  # a wrong setting skips the tick with its message; the cursor stays as it was
        tree = source.tree()
        with reported_source_problems(tree.url):
            listing = list(
                list_source_files(tree, LOG_PREFIX, start_after=None if full else cursor.last_key)
            )
    except SettingProblem as problem:
        return dg.SensorResult(skip_reason=problem.message)
    # First tick (no cursor): the files some run loaded already, at their current version, are
    # not new (the daemon's first start after `sparkify build` launches nothing).
    already_loaded = (
        loaded_log_file_versions(context.instance, tree.url) if cursor.mark is None else {}
    )
    new_cursor, tick = cursor.after_listing(
        listing,
        full=full,
        started_at=started_at,
        first_day=first_day,
        last_day=last_day,
        already_loaded=already_loaded,
    )
    # Keys are written by whoever can upload to the bucket: logged as repr (no newline or
    # terminal escape sequence reaches the log as is).
    for key, why in tick.ignored:
        context.log.info(f"ignoring {key!r} in {tree.url}: {why}")
    for key in tick.deferred:
        context.log.info(f"waiting for {key!r} in {tree.url}: its day is not a partition yet")
    context.log.info(
        f"{'full' if full else 'incremental'} listing of {tree.url}/{LOG_PREFIX}:"
        f" {tick.files_listed} keys listed, {len(tick.changes)} files to load"
        f" ({len(already_loaded)} known from earlier loads)"
        f" in {time.time() - started_at:.2f} s"
    )
    changes = [
        change
        for change in tick.changes
        # never a key outside the partitions
        if log_date_partitions.has_partition_key(change.day.isoformat())
    ]
    run_requests = log_range_run_requests(changes)
    if not run_requests:
        return dg.SensorResult(
            skip_reason=f"no new or changed log file under {tree.url}/{LOG_PREFIX}",
            cursor=new_cursor.to_json(),
        )
    return dg.SensorResult(run_requests=run_requests, cursor=new_cursor.to_json())


@dg.sensor(
    name="song_data_sensor",
    description=(
        "Reloads the song catalog (staging_songs, songs, artists) when any file under"
        " song_data/ is added, changed or removed: compares a digest of every key and ETag."
    ),
    target=dg.AssetSelection.assets(*CATALOG_ASSETS),
    minimum_interval_seconds=SONG_DATA_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def song_data_sensor(
    context: dg.SensorEvaluationContext, source: SourceResource
) -> dg.SensorResult:
    try:  # a wrong setting skips the tick with its message; the cursor stays as it was
        tree = source.tree()
        with reported_source_problems(tree.url):
            digest, count = catalog_digest(
                (file.key, file.version)
                for file in list_source_files(tree, SONG_PREFIX)
                if is_song_key(file.key)
            )
    except SettingProblem as problem:
        return dg.SensorResult(skip_reason=problem.message)
    previous = json.loads(context.cursor) if context.cursor else {}
    cursor = json.dumps({"digest": digest, "song_files": count})
    if count == 0:
        return dg.SensorResult(skip_reason=f"no song file under {tree.url}/{SONG_PREFIX}")
    if not previous and loaded_catalog_digest(context.instance, tree.url) == digest:
        return dg.SensorResult(
            skip_reason=f"song catalog already loaded by an earlier run ({count} files)",
            cursor=cursor,
        )
    if previous.get("digest") == digest:
        return dg.SensorResult(skip_reason=f"song catalog unchanged ({count} files)", cursor=cursor)
    context.log.info(
        f"song catalog changed: {count} files (was {previous.get('song_files', 'not seen')})"
    )
    return dg.SensorResult(
        run_requests=[
            # Unique per change (a catalog changing back to an earlier state runs again).
            dg.RunRequest(run_key=f"song_data@{digest[:16]}@{int(time.time())}")
        ],
        cursor=cursor,
    )
