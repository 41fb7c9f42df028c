"""The real daemon (`sparkify daemon`: `dagster-daemon run` on the project's instance, storage on
PostgreSQL) against a real S3-compatible server: files flow to every table by themselves, as range
runs; a daemon started after `sparkify build` launches nothing; and the instance's storage on the
embedded server survives a restart of that server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from dagster._core.execution.backfill import BulkActionStatus
from dagster._core.scheduler.instigation import InstigatorTick, TickStatus

from sparkify_assets.sample_data.generator import write_sample_source
from sparkify_assets.sample_data.spec import SampleSpec
from sparkify_assets.source.layout import log_key_for
from tests.reference_warehouse import reference_warehouse
from tests.support.s3_server import (  # noqa: F401 (fixtures)
    S3Bucket,
    s3_bucket,
    s3_environment,
    s3_server_url,
)
from tests.warehouse_state import assert_matches_reference

SPEC = SampleSpec(seed=13, days=8, events_per_day=25, users=10, catalog_songs=20)
DAYS = [SPEC.start + timedelta(days=n) for n in range(SPEC.days)]
FIRST_DAYS = DAYS[:6]  # in the bucket when the daemon starts
NEW_DAY = DAYS[6]
CORRECTED_DAY = DAYS[1]
PREFIX = "events/"
SPARKIFY = str(Path(sys.executable).parent / "sparkify")
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
UNFINISHED = (
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
)


def _environment(
    home: Path, bucket: S3Bucket, warehouse_url: str, dagster_storage_url: str
) -> dict[str, str]:
    env = {
        **os.environ,  # with the fixtures' AWS_ENDPOINT_URL and fake credentials
        "SPARKIFY_HOME": str(home),
        "SPARKIFY_WAREHOUSE_URL": warehouse_url,
        "SPARKIFY_DAGSTER_STORAGE_URL": dagster_storage_url,
        "SPARKIFY_SOURCE_URL": bucket.url(PREFIX),
        "SPARKIFY_LOG_FULL_LISTING_INTERVAL_SECONDS": "0",  # every tick sees re-uploads
    }
    env.pop("DAGSTER_HOME", None)
    return env


@contextmanager
def running_daemon(env: dict[str, str], log_path: Path) -> Iterator[Callable[[], str]]:
    """`sparkify daemon` in its own process group, stopped (group and all) afterwards. Yields a
    function returning the end of its log."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [SPARKIFY, "daemon"], env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        yield lambda: log_path.read_text(errors="replace")[-4000:]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        time.sleep(2)  # its code server and run workers leave with it
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def wait_for(
    condition: Callable[[], bool], timeout: float, what: str, log: Callable[[], str]
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; daemon log:\n{log()}")


def _matches(warehouse_url: str, root: Path, days: set[str]) -> bool:
    try:
        assert_matches_reference(warehouse_url, reference_warehouse(root, days=days))
    except (AssertionError, psycopg.Error):  # not there yet (tables are created by the first run)
        return False
    return True


def _settled(instance: dg.DagsterInstance) -> bool:
    unfinished = instance.get_runs(filters=dg.RunsFilter(statuses=list(UNFINISHED)))
    backfills = instance.get_backfills(status=BulkActionStatus.REQUESTED)
    return not unfinished and not backfills


def _runs_writing(
    instance: dg.DagsterInstance, runs: list[dg.DagsterRun], asset: str
) -> list[dg.DagsterRun]:
    """The runs that planned to materialize ``asset``."""
    found = []
    for run in runs:
        planned = instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
        ).records
        keys = {r.event_log_entry.dagster_event.asset_key for r in planned}  # type: ignore[union-attr]
        if dg.AssetKey(asset) in keys:
            found.append(run)
    return found


def _days_of(run: dg.DagsterRun) -> list[str]:
    if RANGE_START in run.tags:
        first, last = (date.fromisoformat(run.tags[t]) for t in (RANGE_START, RANGE_END))
        return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    return [run.tags["dagster/partition"]] if "dagster/partition" in run.tags else []


@pytest.fixture
def source_root(tmp_path: Path) -> Path:
    root = tmp_path / "source"
    write_sample_source(root, SPEC)
    return root


def _upload(bucket: S3Bucket, root: Path, day: date) -> None:
    bucket.put(f"{PREFIX}{log_key_for(day)}", (root / log_key_for(day)).read_bytes())


def test_the_daemon_alone_fills_every_table_with_range_runs(
    s3_bucket: S3Bucket,  # noqa: F811
    source_root: Path,
    tmp_path: Path,
    warehouse_url: str,
    dagster_storage_url: str,
) -> None:
    s3_bucket.upload_tree(source_root / "song_data", f"{PREFIX}song_data/")
    for day in FIRST_DAYS:
        _upload(s3_bucket, source_root, day)
    env = _environment(tmp_path / "home", s3_bucket, warehouse_url, dagster_storage_url)
    loaded = {d.isoformat() for d in FIRST_DAYS}

    with running_daemon(env, tmp_path / "daemon.log") as log:
        config = tmp_path / "home" / "dagster_home" / "dagster.yaml"
        wait_for(config.exists, 60, "the daemon to write its instance", log)
        instance = dg.DagsterInstance.from_config(str(config.parent))
        wait_for(
            lambda: _matches(warehouse_url, source_root, loaded) and _settled(instance),
            420,
            "every table of the first six days",
            log,
        )
        first_runs = instance.get_runs()
        print([(r.job_name, r.tags) for r in first_runs])  # shown when an assertion fails
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in first_runs)
        # Six days in the bucket: ONE staging_events run for all of them, and the star tables
        # in range runs (a backfill per automation tick), never one run per day.
        [staging] = _runs_writing(instance, first_runs, "staging_events")
        assert sorted(_days_of(staging)) == sorted(loaded)
        star_runs = _runs_writing(instance, first_runs, "songplays")
        assert 1 <= len(star_runs) <= 2
        assert all(len(_days_of(r)) == len(FIRST_DAYS) for r in star_runs)
        # catalog, staging range, star range(s), the analytics' refresh (automated): no run per day
        assert len(first_runs) <= 6
        assert not [r for r in first_runs if "dagster/partition" in r.tags]
        assert len(_runs_writing(instance, first_runs, "staging_songs")) == 1
        for check_key in dg.AssetKey("songplays"), dg.AssetKey("users"), dg.AssetKey("time"):
            assert set(instance.get_materialized_partitions(check_key)) == loaded

        # A new day and a corrected old day, uploaded together.
        _upload(s3_bucket, source_root, NEW_DAY)
        path = source_root / log_key_for(CORRECTED_DAY)
        path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:10]))
        _upload(s3_bucket, source_root, CORRECTED_DAY)
        loaded.add(NEW_DAY.isoformat())
        wait_for(
            lambda: _matches(warehouse_url, source_root, loaded) and _settled(instance),
            300,
            "the new day and the corrected day in songplays, users and time",
            log,
        )
        later = [r for r in instance.get_runs() if r.run_id not in {f.run_id for f in first_runs}]
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in later)
        staged = sorted(
            day for r in _runs_writing(instance, later, "staging_events") for day in _days_of(r)
        )
        assert staged == sorted([CORRECTED_DAY.isoformat(), NEW_DAY.isoformat()])
        assert len(_runs_writing(instance, later, "staging_events")) <= 2
        assert len(later) <= 6  # two staging days, the star tables for both, the analytics
        for key in ("songplays", "users", "time"):
            assert set(instance.get_materialized_partitions(dg.AssetKey(key))) == loaded
        instance.dispose()


def _ticks(instance: dg.DagsterInstance) -> dict[str, list[InstigatorTick]]:
    return {
        state.instigator_name: instance.get_ticks(state.instigator_origin_id, state.selector_id)
        for state in instance.all_instigator_state()
    }


def test_a_daemon_started_after_a_build_launches_nothing(
    s3_bucket: S3Bucket,  # noqa: F811
    source_root: Path,
    tmp_path: Path,
    warehouse_url: str,
    dagster_storage_url: str,
) -> None:
    s3_bucket.upload_tree(source_root / "song_data", f"{PREFIX}song_data/")
    for day in FIRST_DAYS:
        _upload(s3_bucket, source_root, day)
    env = _environment(tmp_path / "home", s3_bucket, warehouse_url, dagster_storage_url)
    build = subprocess.run(
        [SPARKIFY, "build"], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    instance = dg.DagsterInstance.from_config(str(tmp_path / "home" / "dagster_home"))
    built = {r.run_id for r in instance.get_runs()}
    assert len(built) == 3

    with running_daemon(env, tmp_path / "daemon.log") as log:
        # Finished ticks to wait for: the song sensor's interval is 5 minutes (its first tick is the
        # one that matters); the automation's first evaluation and the next.
        sensors = {"log_data_sensor": 2, "song_data_sensor": 1, "star_schema_automation_sensor": 2}

        def every_sensor_ticked() -> bool:
            ticks = _ticks(instance)
            return all(
                len([t for t in ticks.get(name, []) if t.status != TickStatus.STARTED]) >= count
                for name, count in sensors.items()
            )

        wait_for(every_sensor_ticked, 240, "the first ticks of every sensor", log)
        ticks = _ticks(instance)
        for name in sensors:
            assert all(t.status in (TickStatus.SKIPPED, TickStatus.STARTED) for t in ticks[name]), (
                name,
                [(t.status, t.skip_reason, t.error) for t in ticks[name]],
            )
        assert {r.run_id for r in instance.get_runs()} == built
        assert not instance.get_backfills()
    instance.dispose()


def test_no_check_is_partitioned() -> None:
    """What check_planning_event_log relies on: it records one planned row per check and run."""
    from sparkify_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    assert graph.asset_check_keys
    assert all(graph.get(key).partitions_def is None for key in graph.asset_check_keys)


_LIST_INSTANCE = """
import json
import dagster as dg
from sparkify_assets.instance.project_instance import prepare_instance
with dg.DagsterInstance.from_config(str(prepare_instance())) as instance:
    print(json.dumps({
        "runs": [r.run_id for r in instance.get_runs()],
        "partitions": sorted(instance.get_materialized_partitions(dg.AssetKey("survivor"))),
    }))
"""


def test_the_instance_storage_survives_a_restart_of_the_embedded_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sparkify_assets.instance.project_instance import prepare_instance
    from sparkify_assets.warehouse.postgres.embedded_server import EmbeddedPostgres

    # Not under pytest's tmp_path (see conftest: the server may run as another user).
    home = Path(tempfile.mkdtemp(prefix="sparkify-instance-"))
    monkeypatch.setenv("SPARKIFY_HOME", str(home))
    monkeypatch.delenv("SPARKIFY_DAGSTER_STORAGE_URL", raising=False)
    monkeypatch.delenv("SPARKIFY_DAGSTER_STORAGE_PASSWORD", raising=False)
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}

    def sparkify(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SPARKIFY, *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    @dg.asset(partitions_def=dg.DailyPartitionsDefinition(start_date="2018-11-01"))
    def survivor() -> None:
        return None

    try:
        with dg.DagsterInstance.from_config(str(prepare_instance())) as instance:
            result = dg.materialize([survivor], instance=instance, partition_key="2018-11-02")
            assert result.success
        # Stopped and started again by other processes, as a user would.
        assert "stopped" in sparkify("stop-postgres").stdout
        assert not (EmbeddedPostgres.for_home(home).data_dir / "postmaster.pid").exists()
        listed = subprocess.run(
            [sys.executable, "-c", _LIST_INSTANCE],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert listed.returncode == 0, listed.stderr[-3000:]
        assert json.loads(listed.stdout.splitlines()[-1]) == {
            "runs": [result.run_id],
            "partitions": ["2018-11-02"],
        }
    finally:
        EmbeddedPostgres.for_home(home).remove()
        shutil.rmtree(home, ignore_errors=True)
