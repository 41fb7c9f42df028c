"""The log_data and song_data sensors, evaluated through Dagster against a real S3-compatible HTTP
server; the runs they request are executed on the test PostgreSQL and the tables checked."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from sparkify_assets.commands.build import build_warehouse
from sparkify_assets.definitions import defs
from sparkify_assets.defs import staging_assets
from sparkify_assets.defs.asset_groups import CATALOG_ASSETS
from sparkify_assets.defs.resources import SourceResource
from sparkify_assets.defs.source_sensors import log_data_sensor, song_data_sensor
from sparkify_assets.sample_data.generator import write_sample_source
from sparkify_assets.sample_data.spec import SampleSpec
from sparkify_assets.source.change_cursors import (
    SETTLE_SECONDS,
    LogFileCursor,
    LogTick,
    ObservedFile,
)
from sparkify_assets.source.layout import log_key_for
from tests.conftest import resources_for
from tests.reference_warehouse import reference_warehouse
from tests.support.s3_server import (
    FaultyS3Front,
    S3Bucket,
)

# 32 days: Nov 1 .. Dec 2, 2018. The bucket starts with 30 of them (no Nov 5, no Dec 2).
MONTH_SPEC = SampleSpec(seed=11, days=32, events_per_day=20, users=10, catalog_songs=20)
ALL_DAYS = [MONTH_SPEC.start + timedelta(days=n) for n in range(MONTH_SPEC.days)]
LATE_DAY = date(2018, 11, 5)
NEW_DAY = date(2018, 12, 2)
FIRST_DAYS = [d for d in ALL_DAYS if d not in (LATE_DAY, NEW_DAY)]
PREFIX = "sparkify/"
NO_FULL_LISTING = 86_400  # a full listing is not due on this tick: incremental only


@pytest.fixture(scope="module")
def month_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("month_source")
    write_sample_source(root, MONTH_SPEC)
    return root


@dataclass
class SensorHarness:
    """Ticks a sensor of ``defs`` with its cursor kept between ticks, and runs what it asks for."""

    sensor: dg.SensorDefinition
    selection: Sequence[str]
    source: SourceResource
    warehouse_url: str
    instance: dg.DagsterInstance = field(default_factory=dg.DagsterInstance.ephemeral)
    cursor: str | None = None

    def tick(self, **source_overrides: object) -> dg.SensorResult:
        fields = {name: getattr(self.source, name) for name in SourceResource.model_fields}
        source = SourceResource(**{**fields, **source_overrides})
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            definitions=defs,
            resources={"source": source},
        )
        data = self.sensor.evaluate_tick(context)
        self.cursor = data.cursor
        return dg.SensorResult(
            run_requests=data.run_requests, skip_reason=data.skip_message, cursor=data.cursor
        )

    def execute(self, requests: Sequence[dg.RunRequest]) -> None:
        """Runs each request as the daemon would: the selected assets, the request's partition
        and tags, on this instance (one job, built once)."""
        resources = {**resources_for(self.warehouse_url, ""), "source": self.source}
        job = dg.Definitions(
            assets=list(defs.assets or []), resources=resources
        ).resolve_implicit_global_asset_job_def()
        for request in requests:
            result = job.execute_in_process(
                partition_key=request.partition_key,  # None for a range: its tags say which
                asset_selection=[dg.AssetKey(key) for key in self.selection],
                instance=self.instance,
                tags={k: v for k, v in request.tags.items() if k != "dagster/partition"},
            )
            assert result.success


def request_days(request: dg.RunRequest) -> list[str]:
    """The days a request loads: its partition, or every day of its range."""
    if request.partition_key:
        return [request.partition_key]
    first = date.fromisoformat(request.tags["dagster/asset_partition_range_start"])
    last = date.fromisoformat(request.tags["dagster/asset_partition_range_end"])
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def requested_days(result: dg.SensorResult) -> list[str]:
    return [day for request in result.run_requests or [] for day in request_days(request)]


def events_per_day(warehouse_url: str) -> dict[str, int]:
    with psycopg.connect(warehouse_url) as connection:
        rows = connection.execute(
            "SELECT log_date, COUNT(*) FROM staging_events GROUP BY log_date"
        ).fetchall()
    return {day.isoformat(): count for day, count in rows}


def expected_events_per_day(root: Path, days: Sequence[date]) -> dict[str, int]:
    return {
        d.isoformat(): reference_warehouse(root, days={d.isoformat()}).staging_events for d in days
    }


def upload_day(bucket: S3Bucket, root: Path, day: date) -> str:
    key = log_key_for(day)
    return bucket.put(f"{PREFIX}{key}", (root / key).read_bytes())


def test_log_sensor_end_to_end(
    s3_bucket: S3Bucket,
    month_source: Path,
    tmp_path: Path,
    warehouse_url: str,
) -> None:
    source_root = tmp_path / "source"
    shutil.copytree(month_source, source_root)
    s3_bucket.upload_tree(source_root / "song_data", f"{PREFIX}song_data/")
    for day in FIRST_DAYS:
        upload_day(s3_bucket, source_root, day)
    harness = SensorHarness(
        log_data_sensor,
        ["staging_events"],
        SourceResource(url=s3_bucket.url(PREFIX)),
        warehouse_url,
    )

    # First tick over a bucket with 30 days: one range run per contiguous range (Nov 5 is
    # missing: Nov 1-4 and Nov 6 - Dec 1), each with a unique run key.
    first = harness.tick()
    assert requested_days(first) == [d.isoformat() for d in FIRST_DAYS]
    assert [request_days(r)[0] for r in first.run_requests or []] == ["2018-11-01", "2018-11-06"]
    assert len({r.run_key for r in first.run_requests or []}) == 2
    harness.execute(first.run_requests or [])
    assert events_per_day(warehouse_url) == expected_events_per_day(source_root, FIRST_DAYS)

    # Nothing new: skipped.
    nothing = harness.tick(log_full_listing_interval_seconds=NO_FULL_LISTING)
    assert not nothing.run_requests
    assert nothing.skip_reason and "no new or changed log file" in str(nothing.skip_reason)

    # A new day: found by the incremental listing (keys after the newest), on the next tick.
    upload_day(s3_bucket, source_root, NEW_DAY)
    new = harness.tick(log_full_listing_interval_seconds=NO_FULL_LISTING)
    assert requested_days(new) == [NEW_DAY.isoformat()]
    harness.execute(new.run_requests or [])

    # A late file for an old day: its key sorts before the newest, so only the periodic full
    # listing finds it: not on a tick where none is due, then on the first where one is.
    upload_day(s3_bucket, source_root, LATE_DAY)
    assert not harness.tick(log_full_listing_interval_seconds=NO_FULL_LISTING).run_requests
    late = harness.tick(log_full_listing_interval_seconds=0)
    assert requested_days(late) == [LATE_DAY.isoformat()]
    harness.execute(late.run_requests or [])
    assert events_per_day(warehouse_url) == expected_events_per_day(source_root, ALL_DAYS)

    # A corrected file for a loaded day: requested again (new ETag), and its rows replaced.
    corrected_day = date(2018, 11, 10)
    path = source_root / log_key_for(corrected_day)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[: len(lines) // 2]))
    old_run_key = next(
        r.run_key for r in first.run_requests or [] if "2018-11-10" in request_days(r)
    )
    upload_day(s3_bucket, source_root, corrected_day)
    corrected = harness.tick(log_full_listing_interval_seconds=0)
    assert requested_days(corrected) == [corrected_day.isoformat()]
    [request] = corrected.run_requests or []
    assert request.run_key != old_run_key
    harness.execute([request])
    assert events_per_day(warehouse_url) == expected_events_per_day(source_root, ALL_DAYS)
    assert events_per_day(warehouse_url)["2018-11-10"] == len(lines) // 2

    # Re-uploading the same bytes changes nothing (same ETag).
    upload_day(s3_bucket, source_root, corrected_day)
    assert not harness.tick(log_full_listing_interval_seconds=0).run_requests


@pytest.mark.parametrize("per_day_max_days", [31, 2], ids=["short window", "long window"])
def test_first_tick_requests_only_what_no_run_has_loaded(
    s3_bucket: S3Bucket,
    month_source: Path,
    tmp_path: Path,
    warehouse_url: str,
    per_day_max_days: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After `sparkify build` (or any run) loaded the bucket, the sensor's first tick — no cursor
    yet — requests only the files whose current version no load recorded. A window longer than
    per-day metadata is written for (years of history) is recognised from the run's observation."""
    monkeypatch.setattr(staging_assets, "PER_DAY_METADATA_MAX_DAYS", per_day_max_days)
    root = tmp_path / "source"
    shutil.copytree(month_source, root)
    s3_bucket.upload_tree(root / "song_data", f"{PREFIX}song_data/")
    built = ALL_DAYS[:8]
    for day in built:
        upload_day(s3_bucket, root, day)
    harness = SensorHarness(
        log_data_sensor,
        ["staging_events"],
        SourceResource(url=s3_bucket.url(PREFIX)),
        warehouse_url,
    )
    outcome = build_warehouse(
        defs,
        instance=harness.instance,
        resources={**resources_for(warehouse_url, ""), "source": harness.source},
        log_dates=built,
    )
    assert outcome.succeeded
    days_with_files = {
        record.asset_materialization.partition
        for record in harness.instance.fetch_materializations(
            dg.AssetKey("staging_events"), limit=100
        ).records
        if record.asset_materialization and "source_file" in record.asset_materialization.metadata
    }
    assert len(days_with_files) == (len(built) if per_day_max_days > len(built) else 0)

    corrected, new = date(2018, 11, 3), ALL_DAYS[8]
    path = root / log_key_for(corrected)
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:5]))
    upload_day(s3_bucket, root, corrected)
    upload_day(s3_bucket, root, new)
    first = harness.tick()
    assert requested_days(first) == [corrected.isoformat(), new.isoformat()]
    assert len(first.run_requests or []) == 2  # not contiguous: two runs

    # The same file under another tree was not loaded from there: requested.
    elsewhere = SensorHarness(
        log_data_sensor,
        ["staging_events"],
        SourceResource(url=s3_bucket.url("elsewhere/")),
        warehouse_url,
        instance=harness.instance,
    )
    s3_bucket.put(
        f"elsewhere/{log_key_for(ALL_DAYS[0])}", (root / log_key_for(ALL_DAYS[0])).read_bytes()
    )
    assert requested_days(elsewhere.tick()) == [ALL_DAYS[0].isoformat()]


def test_foreign_and_out_of_range_keys_are_never_requested(
    s3_bucket: S3Bucket,
    month_source: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    upload_day(s3_bucket, month_source, date(2018, 11, 7))
    soon = datetime.now(UTC).date() + timedelta(days=3)
    for key in (
        "log_data/README.txt",
        "log_data/2018/11/2018-11-07-events.json.bak",
        "log_data/2018/11/2018-11-31-events.json",
        "log_data/2018/12/2018-11-30-events.json",
        "log_data/2018/10/2018-10-31-events.json",  # before the first partition
        "log_data/2999/01/2999-01-01-events.json",  # far in the future
        log_key_for(soon),  # not a partition yet: waits for its day
    ):
        s3_bucket.put(f"{PREFIX}{key}", b"{}\n")
    harness = SensorHarness(
        log_data_sensor, ["staging_events"], SourceResource(url=s3_bucket.url(PREFIX)), ""
    )

    first = harness.tick()
    logged = capfd.readouterr().err  # the sensor's context.log writes to stderr
    assert requested_days(first) == ["2018-11-07"]
    for key in ("README.txt", "07-events.json.bak", "2018-11-31", "2018-10-31", "2999-01-01"):
        assert any("ignoring" in line and key in line for line in logged.splitlines()), key
    assert any("waiting for" in line and soon.isoformat() in line for line in logged.splitlines())
    assert json.loads(harness.cursor or "")["deferred"].keys() == {log_key_for(soon)}

    again = harness.tick(log_full_listing_interval_seconds=0)
    assert not again.run_requests
    assert "ignoring" not in capfd.readouterr().err  # logged once, not on every tick


def test_more_than_1000_keys_and_what_a_tick_lists(
    s3_bucket: S3Bucket,
    s3_environment: str,
) -> None:
    days = [date(2018, 11, 1) + timedelta(days=n) for n in range(1100)]
    s3_bucket.put_many((f"{PREFIX}{log_key_for(d)}", b"{}\n") for d in days)

    with FaultyS3Front(s3_environment) as front:
        source = SourceResource(url=s3_bucket.url(PREFIX), s3_endpoint_url=front.url)
        harness = SensorHarness(log_data_sensor, ["staging_events"], source, "")

        first = harness.tick()
        assert requested_days(first) == [d.isoformat() for d in days]
        assert front.listings() == 2  # 1,100 keys: two pages
        # 1,100 contiguous days: one range run (split only above MAX_DAYS_PER_RUN), not 1,100 runs
        assert [len(request_days(r)) for r in first.run_requests or []] == [1100]

        assert not harness.tick(log_full_listing_interval_seconds=NO_FULL_LISTING).run_requests
        assert front.listings() == 3  # incremental: one request, whatever the bucket's size

        newest = days[-1] + timedelta(days=1)
        s3_bucket.put(f"{PREFIX}{log_key_for(newest)}", b"{}\n")
        assert requested_days(harness.tick(log_full_listing_interval_seconds=NO_FULL_LISTING)) == [
            newest.isoformat()
        ]
        assert front.listings() == 4

        assert not harness.tick(log_full_listing_interval_seconds=0).run_requests
        assert front.listings() == 6  # a full listing: two pages again


def test_two_files_written_in_the_same_second(
    s3_bucket: S3Bucket,
    month_source: Path,
) -> None:
    upload_day(s3_bucket, month_source, date(2018, 11, 20))
    harness = SensorHarness(
        log_data_sensor, ["staging_events"], SourceResource(url=s3_bucket.url(PREFIX)), ""
    )
    assert requested_days(harness.tick()) == ["2018-11-20"]

    # Until both writes land in one second (S3's LastModified resolution): each attempt starts
    # at the top of a second (the server shares this clock), leaving the whole second for an
    # upload, a tick and an upload even on a loaded machine; nine attempts (days 2..19).
    for attempt in range(9):
        first, second = date(2018, 11, 2 + 2 * attempt), date(2018, 11, 3 + 2 * attempt)
        time.sleep(1 - time.time() % 1)
        upload_day(s3_bucket, month_source, first)
        seen = harness.tick(log_full_listing_interval_seconds=0)
        upload_day(s3_bucket, month_source, second)
        stamps = {s3_bucket.last_modified(f"{PREFIX}{log_key_for(d)}") for d in (first, second)}
        if len(stamps) == 1:
            break
        harness.tick(log_full_listing_interval_seconds=0)
    else:
        pytest.fail("could not write two files in one second")
    assert requested_days(seen) == [first.isoformat()]
    # The second file has the same LastModified as one already handled: still found, and the
    # first is not requested again.
    assert requested_days(harness.tick(log_full_listing_interval_seconds=0)) == [second.isoformat()]


def test_song_data_sensor_reloads_the_catalog_on_change(
    s3_bucket: S3Bucket,
    month_source: Path,
    tmp_path: Path,
    warehouse_url: str,
) -> None:
    source_root = tmp_path / "source"
    shutil.copytree(month_source / "song_data", source_root / "song_data")
    s3_bucket.upload_tree(source_root, PREFIX)
    harness = SensorHarness(
        song_data_sensor, CATALOG_ASSETS, SourceResource(url=s3_bucket.url(PREFIX)), warehouse_url
    )

    first = harness.tick()
    assert len(first.run_requests or []) == 1
    harness.execute(first.run_requests or [])
    assert not harness.tick().run_requests

    # A corrected song file: new title. The catalog is reloaded and the songs table shows it.
    song_path = sorted((source_root / "song_data").rglob("*.json"))[0]
    song = json.loads(song_path.read_text(encoding="utf-8"))
    song["title"] = "Corrected Title"
    song_path.write_text(json.dumps(song), encoding="utf-8")
    s3_bucket.put(
        f"{PREFIX}{song_path.relative_to(source_root).as_posix()}", song_path.read_bytes()
    )
    changed = harness.tick()
    assert len(changed.run_requests or []) == 1
    harness.execute(changed.run_requests or [])
    with psycopg.connect(warehouse_url) as connection:
        titles = connection.execute(
            "SELECT title FROM songs WHERE song_id = %s", (song["song_id"],)
        ).fetchall()
    assert titles == [("Corrected Title",)]
    assert reference_warehouse(source_root).songs == {row for row in _songs(warehouse_url)}

    # A deleted song file changes the catalog too.
    s3_bucket.client.delete_object(
        Bucket=s3_bucket.name, Key=f"{PREFIX}{song_path.relative_to(source_root).as_posix()}"
    )
    assert len(harness.tick().run_requests or []) == 1


def _songs(warehouse_url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(warehouse_url) as connection:
        return connection.execute(
            "SELECT song_id, title, artist_id, year, duration FROM songs"
        ).fetchall()


# The cursor logic on its own.

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def _file(day: int, version: str = "v1", at: datetime = T0) -> ObservedFile:
    return ObservedFile(log_key_for(date(2018, 11, day)), version, at)


def _advance(
    cursor: LogFileCursor, files: list[ObservedFile], *, full: bool, now: datetime
) -> tuple[LogFileCursor, list[str]]:
    new_cursor, tick = cursor.after_listing(
        files,
        full=full,
        started_at=now.timestamp(),
        first_day=date(2018, 11, 1),
        last_day=date(2018, 12, 31),
    )
    assert LogFileCursor.from_json(new_cursor.to_json()) == new_cursor
    return new_cursor, [c.day.isoformat() for c in tick.changes]


def test_cursor_same_second_and_settle_window() -> None:
    cursor, days = _advance(LogFileCursor(), [_file(1), _file(2)], full=True, now=T0)
    assert days == ["2018-11-01", "2018-11-02"]

    # Long after: the mark is now - SETTLE; files older than it are not looked at again.
    later = T0 + timedelta(hours=1)
    cursor, days = _advance(cursor, [_file(1), _file(2)], full=True, now=later)
    assert days == []
    assert cursor.mark == later - timedelta(seconds=SETTLE_SECONDS)
    assert cursor.recent == {}

    # Two files stamped with the mark's very second, seen by different listings.
    at_mark = cursor.mark
    assert at_mark is not None
    cursor, days = _advance(
        cursor, [_file(1), _file(2), _file(3, at=at_mark)], full=True, now=later
    )
    assert days == ["2018-11-03"]
    cursor, days = _advance(
        cursor,
        [_file(1), _file(2), _file(3, at=at_mark), _file(4, at=at_mark)],
        full=True,
        now=later + timedelta(seconds=1),
    )
    assert days == ["2018-11-04"]


def test_cursor_defers_days_just_ahead_and_ignores_far_future_ones() -> None:
    soon = ObservedFile(log_key_for(date(2019, 1, 2)), "v1", T0)
    far = ObservedFile(log_key_for(date(2019, 3, 1)), "v1", T0)
    cursor, tick = LogFileCursor().after_listing(
        [soon, far],
        full=True,
        started_at=T0.timestamp(),
        first_day=date(2018, 11, 1),
        last_day=date(2018, 12, 31),
    )
    assert tick.deferred == [soon.key] and not tick.changes
    assert [key for key, _ in tick.ignored] == [far.key]
    assert list(cursor.deferred) == [soon.key]

    # Two days later its day is a partition: requested without being listed again.
    cursor, tick = cursor.after_listing(
        [],
        full=False,
        started_at=T0.timestamp() + 30,
        first_day=date(2018, 11, 1),
        last_day=date(2019, 1, 2),
    )
    assert [c.file.key for c in tick.changes] == [soon.key]
    assert cursor.deferred == {}


def test_cursor_incremental_listing_only_takes_keys_after_the_newest() -> None:
    cursor, _ = _advance(LogFileCursor(), [_file(10)], full=True, now=T0)
    assert cursor.last_key == _file(10).key
    assert cursor.needs_full_listing(T0.timestamp() + 30, 600) is False
    assert cursor.needs_full_listing(T0.timestamp() + 600, 600) is True
    cursor, days = _advance(cursor, [_file(11, at=T0 - timedelta(days=1))], full=False, now=T0)
    assert days == ["2018-11-11"]  # by key, whatever its LastModified
    assert cursor.last_key == _file(11).key


def test_sensor_cursor_is_small_with_thousands_of_files() -> None:
    old = T0 - timedelta(days=30)
    files = [
        ObservedFile(log_key_for(date(2018, 11, 1) + timedelta(days=n)), f"{n:032x}", old)
        for n in range(5000)
    ]
    cursor, tick = LogFileCursor().after_listing(
        files,
        full=True,
        started_at=time.time(),
        first_day=date(2018, 11, 1),
        last_day=date(2040, 1, 1),
    )
    assert len(tick.changes) == 5000
    assert len(cursor.to_json()) < 500


def test_log_sensor_watches_a_local_directory_too(small_source: Path, tmp_path: Path) -> None:
    root = tmp_path / "source"
    shutil.copytree(small_source, root)
    harness = SensorHarness(log_data_sensor, ["staging_events"], SourceResource(url=str(root)), "")

    assert len(requested_days(harness.tick())) == 6
    assert not harness.tick(log_full_listing_interval_seconds=0).run_requests
    day = next(iter(sorted((root / "log_data").rglob("*-events.json"))))
    day.write_bytes(day.read_bytes() + b"\n")  # changed: new mtime and size
    assert requested_days(harness.tick(log_full_listing_interval_seconds=0)) == [day.name[:10]]


def _incremental(
    cursor: LogFileCursor, bucket: list[ObservedFile], now: datetime
) -> tuple[LogFileCursor, LogTick]:
    """An incremental tick over ``bucket`` as S3 would list it: the keys after ``last_key``."""
    listed = sorted(
        (f for f in bucket if cursor.last_key is None or f.key > cursor.last_key),
        key=lambda f: f.key,
    )
    return cursor.after_listing(
        listed,
        full=False,
        started_at=now.timestamp(),
        first_day=date(2018, 11, 1),
        last_day=date(2018, 12, 31),
    )


def test_junk_keys_after_every_date_never_become_the_cursor() -> None:
    """Finding 9: ``log_data/zzz`` (or a far-future day) sorted after every date and became the
    incremental start, so new days waited for the next full listing."""
    junk = [
        ObservedFile("log_data/zzz", "j1", T0),
        ObservedFile("log_data/2999/01/2999-01-01-events.json", "j2", T0),
        ObservedFile("log_data/2018/11/2018-11-02-events.json.bak", "j3", T0),
    ]
    bucket = [_file(1), *junk]
    cursor, days = _advance(LogFileCursor(), bucket, full=True, now=T0)
    assert days == ["2018-11-01"]
    assert cursor.last_key == _file(1).key

    bucket.append(_file(2, at=T0 + timedelta(seconds=40)))  # a new day, then an incremental tick
    cursor, tick = _incremental(cursor, bucket, T0 + timedelta(seconds=60))
    assert [c.day.isoformat() for c in tick.changes] == ["2018-11-02"]
    assert cursor.last_key == _file(2).key
    assert tick.ignored == []  # the junk keys were reported by the first tick, not again

    for tick_number in range(3):  # junk listed again on every tick, never logged again
        cursor, tick = _incremental(cursor, bucket, T0 + timedelta(seconds=90 + tick_number))
        assert tick.changes == [] and tick.ignored == []
        assert cursor.last_key == _file(2).key

    # A cursor saved by the earlier code, with a junk key as last_key: reset to a full listing.
    stored = json.loads(cursor.to_json())
    stored["last_key"] = "log_data/zzz"
    reloaded = LogFileCursor.from_json(json.dumps(stored))
    assert reloaded.last_key is None
    assert reloaded.needs_full_listing(T0.timestamp() + 100, 600)
    cursor, days = _advance(reloaded, bucket, full=True, now=T0 + timedelta(seconds=100))
    assert days == [] and cursor.last_key == _file(2).key


def test_logged_keys_are_escaped(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """Finding 9: a key carrying a newline or terminal escape sequences reaches the log escaped
    (repr), so it cannot forge a log line or recolour a terminal. (A local tree: moto's server
    does not route a key with a newline; S3 itself accepts one.)"""
    name = "x\nINFO - forged line \x1b[31mred\x1b[0m"
    (tmp_path / "log_data").mkdir()
    (tmp_path / "log_data" / name).write_bytes(b"{}\n")
    harness = SensorHarness(
        log_data_sensor, ["staging_events"], SourceResource(url=str(tmp_path)), ""
    )
    assert not harness.tick().run_requests
    logged = capfd.readouterr().err
    assert "\x1b" not in logged
    assert not any(line.startswith("INFO - forged line") for line in logged.splitlines())
    assert repr(f"log_data/{name}") in logged
