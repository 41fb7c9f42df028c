"""Sensors on the source tree: a new or changed day under log_data/ loads that day's
``staging_events`` partition; a change under song_data/ reloads the catalog. The star tables
follow through declarative automation (``star_schema_automation``).

How the log sensor lists and what its cursor holds: ``lib/source_change_cursors.py``.
"""

from __future__ import annotations

import json
import time
from datetime import date

import dagster as dg

from sparkify_assets.defs.log_date_partitions import log_date_partitions
from sparkify_assets.defs.resources import SourceResource
from sparkify_assets.lib.setting_problems import SettingProblem, reported_source_problems
from sparkify_assets.lib.source_change_cursors import LogFileCursor, catalog_digest
from sparkify_assets.lib.source_layout import LOG_PREFIX, SONG_PREFIX, is_song_key
from sparkify_assets.lib.source_listing import list_source_files
from sparkify_assets.warehouse_build import CATALOG_ASSETS

LOG_DATA_INTERVAL_SECONDS = 30
SONG_DATA_INTERVAL_SECONDS = 300  # the catalog check lists all of song_data/: not every 30 s


def _partition_days() -> tuple[date, date]:
    """The first and last day that are partitions now (the last moves forward every day)."""
    last = log_date_partitions.get_last_partition_key()
    if last is None:
        raise RuntimeError("log_date_partitions has no partition yet")
    return log_date_partitions.start.date(), date.fromisoformat(last)


@dg.sensor(
    name="log_data_sensor",
    description=(
        "Requests a staging_events run for the log date of every new log_data/ file, and again"
        " when a known file changes (new ETag). New days are found on every tick by listing only"
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
    new_cursor, tick = cursor.after_listing(
        listing,
        full=full,
        started_at=started_at,
        first_day=first_day,
        last_day=last_day,
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
        f" in {time.time() - started_at:.2f} s"
    )
    run_requests = [
        dg.RunRequest(
            run_key=change.run_key,
            partition_key=change.day.isoformat(),
            tags={
                "sparkify/source_key": change.file.key,
                "sparkify/source_version": change.file.version,
            },
        )
        for change in tick.changes
        # never a key outside the partitions
        if log_date_partitions.has_partition_key(change.day.isoformat())
    ]
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
