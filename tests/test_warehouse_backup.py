"""Backups and restores on the embedded PostgreSQL, to a moto S3 server over HTTP and to a local
directory: build -> back up every day -> drop every table -> restore -> the same tables, row for
row; the Parquet files read back by DuckDB (not the restore code) hold the same rows and the
documented types; a corrected day replaces its files; a range restore leaves other days alone; a
missing or unwritable location fails clearly with the warehouse untouched."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import psycopg
import pyarrow.parquet as pq
import pytest
from psycopg import sql as pgsql

from sparkify_assets.commands.build import build_warehouse
from sparkify_assets.definitions import defs
from sparkify_assets.defs.backup_resource import BackupResource
from sparkify_assets.defs.resources import SourceResource, WarehouseResource
from sparkify_assets.defs.restore_job import warehouse_restore
from sparkify_assets.warehouse.backup.datasets import (
    ALL_DATASETS,
    DAILY_DATASETS,
    SNAPSHOT_DATASETS,
    BackupError,
    table_parquet_schema,
)
from sparkify_assets.warehouse.backup.restore_plan import RestorePlan
from sparkify_assets.warehouse.tables import WAREHOUSE_TABLES
from tests.conftest import SMALL_SPEC
from tests.reference_warehouse import reference_warehouse
from tests.support.s3_server import (
    FaultyS3Front,
    S3Bucket,
)
from tests.warehouse_state import assert_matches_reference

DAYS = [SMALL_SPEC.start + timedelta(days=n) for n in range(SMALL_SPEC.days)]
TODAY = datetime.now(UTC).date()
# What DuckDB, reading the files on its own, must report for each documented Parquet type.
DUCKDB_TYPES = {
    "string": "VARCHAR",
    "int32": "INTEGER",
    "int64": "BIGINT",
    "double": "DOUBLE",
    "date32[day]": "DATE",
    "timestamp[us]": "TIMESTAMP",
}


# -- helpers ---------------------------------------------------------------------------------------


def all_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, every column, sorted: what "the same warehouse" means."""
    with psycopg.connect(url) as connection:
        state = {}
        for table in WAREHOUSE_TABLES:
            rows = connection.execute(
                pgsql.SQL("SELECT * FROM {}").format(pgsql.Identifier(table))
            ).fetchall()
            state[table] = sorted(rows, key=repr)
        return state


def drop_every_table(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        for table in WAREHOUSE_TABLES:
            connection.execute(pgsql.SQL("DROP TABLE {}").format(pgsql.Identifier(table)))


def resources(warehouse_url: str, source: Path, backup_url: str, **backup: Any) -> dict[str, Any]:
    return {
        "warehouse": WarehouseResource(url=warehouse_url),
        "source": SourceResource(url=str(source), max_quarantine_share=0.05),
        "backup": BackupResource(url=backup_url, **backup),
    }


def back_up(res: dict[str, Any], first: date, last: date) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        list(defs.assets),  # type: ignore[arg-type]
        selection=["warehouse_backup"],
        resources=res,
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
        raise_on_error=False,
    )


def run_restore(
    res: dict[str, Any], instance: dg.DagsterInstance | None = None, **config: Any
) -> dg.ExecuteInProcessResult:
    return warehouse_restore.execute_in_process(
        run_config={"ops": {"restore_warehouse_from_backup": {"config": config}}},
        resources=res,
        instance=instance,
        raise_on_error=False,
    )


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    failures = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert failures, "the run did not fail"
    return str(failures[0].event_specific_data.error.message)  # type: ignore[union-attr]


@dataclass
class Backup:
    """A backup location under test, local or S3, and a way to see its files locally."""

    url: str
    local_copy: Any  # () -> Path: the location's files as a local directory

    def keys(self) -> set[str]:
        root = self.local_copy()
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(params=["s3", "local"])
def backup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backup]:
    if request.param == "local":
        root = tmp_path / "backups"
        root.mkdir()
        yield Backup(str(root), lambda: root)
        return
    bucket: S3Bucket = request.getfixturevalue("s3_bucket")
    counter = iter(range(1000))

    def download() -> Path:
        target = tmp_path / f"s3-copy-{next(counter)}"
        paginator = bucket.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket.name, Prefix="warehouse/"):
            for item in page.get("Contents", []):
                path = target / item["Key"].removeprefix("warehouse/")
                path.parent.mkdir(parents=True, exist_ok=True)
                bucket.client.download_file(bucket.name, item["Key"], str(path))
        target.mkdir(exist_ok=True)
        return target

    yield Backup(bucket.url("warehouse"), download)


@pytest.fixture(scope="module")
def messy_copy(small_source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small source plus a refused log line and a refused song file: load_quarantine then
    has event and song rows to back up."""
    root = tmp_path_factory.mktemp("messy") / "source"
    shutil.copytree(small_source, root)
    log_file = next((root / "log_data").rglob(f"{DAYS[2].isoformat()}-events.json"))
    with log_file.open("a", encoding="utf-8") as stream:
        stream.write('{"this is": "not an event"}\n')
    (root / "song_data/Z/Z/Z").mkdir(parents=True, exist_ok=True)
    (root / "song_data/Z/Z/Z/TRZZZZZZZZZZZZZZZZ.json").write_text("{ broken", encoding="utf-8")
    return root


# -- the round trip --------------------------------------------------------------------------------


def test_build_back_up_drop_restore_gives_the_same_warehouse(
    warehouse_url: str, small_source: Path, messy_copy: Path, backup: Backup
) -> None:
    res = resources(warehouse_url, messy_copy, backup.url)
    outcome = build_warehouse(defs, resources=res)  # with a backup URL, the build backs up too
    assert outcome.succeeded
    backup_checks = [
        e for e in outcome.check_evaluations if e.asset_key.to_user_string() == "warehouse_backup"
    ]
    assert [e.passed for e in backup_checks] == [True]
    original = all_rows(warehouse_url)
    assert len(original["load_quarantine"]) == 2  # one event row, one song row

    drop_every_table(warehouse_url)
    instance = dg.DagsterInstance.ephemeral()
    restored = run_restore(res, instance)

    assert restored.success, failure_message(restored)
    assert all_rows(warehouse_url) == original
    # ... and the restored star schema is the one the raw files call for (an independent model).
    clean = reference_warehouse(small_source)
    with psycopg.connect(warehouse_url) as connection:
        (plays,) = connection.execute("SELECT COUNT(*) FROM songplays").fetchone()  # type: ignore[misc]
    assert plays == len(clean.songplays)

    # The restore's checks ran, and its partitions are recorded in Dagster.
    checks = restored.get_asset_check_evaluations()
    assert checks
    assert all(c.passed for c in checks if c.check_name != "quarantine_share")
    # The refused line and song file are restored too: the quarantine share warns, as after the load.
    assert {c.asset_key.to_user_string() for c in checks if not c.passed} == {
        "staging_events",
        "staging_songs",
    }
    assert all(c.severity == dg.AssetCheckSeverity.WARN for c in checks if not c.passed)
    assert {c.asset_key.to_user_string() for c in checks} >= {
        "staging_events",
        "songplays",
        "users",
    }
    for asset in ("staging_events", "users", "songplays", "time", "warehouse_backup"):
        assert instance.get_materialized_partitions(dg.AssetKey(asset)) == {
            d.isoformat() for d in DAYS
        }, asset
    for asset in ("staging_songs", "songs", "artists"):
        assert instance.get_latest_materialization_event(dg.AssetKey(asset)) is not None

    # Restoring again changes nothing (idempotent).
    assert run_restore(res).success
    assert all_rows(warehouse_url) == original


def test_restored_clean_warehouse_matches_the_reference(
    warehouse_url: str, small_source: Path, tmp_path: Path
) -> None:
    (tmp_path / "b").mkdir()
    res = resources(warehouse_url, small_source, str(tmp_path / "b"))
    assert build_warehouse(defs, resources=res).succeeded
    drop_every_table(warehouse_url)
    assert run_restore(res).success
    assert_matches_reference(warehouse_url, reference_warehouse(small_source))


def test_files_read_by_duckdb_hold_the_rows_and_documented_types(
    warehouse_url: str, messy_copy: Path, backup: Backup
) -> None:
    res = resources(warehouse_url, messy_copy, backup.url)
    assert build_warehouse(defs, resources=res).succeeded
    original = all_rows(warehouse_url)
    root = backup.local_copy()

    for dataset in ALL_DATASETS:
        pattern = str(root / dataset.name / "*" / "*.parquet")
        relation = duckdb.sql(f"SELECT * FROM read_parquet('{pattern}', hive_partitioning=false)")
        described = dict(zip(relation.columns, [str(t) for t in relation.types], strict=True))
        schema = table_parquet_schema(dataset.table)
        assert list(described) == schema.names, dataset.name
        assert described == {f.name: DUCKDB_TYPES[str(f.type)] for f in schema}, dataset.name

        in_files = sorted(relation.fetchall(), key=repr)
        table_rows = original[dataset.table]
        if dataset.table == "load_quarantine":
            kind = "event" if dataset.is_daily else "song"
            table_rows = [r for r in table_rows if r[0] == kind]
        assert in_files == table_rows, dataset.name

    # The Hive layout: one folder per day (and one snapshot); DuckDB reads the partition column.
    days = duckdb.sql(
        f"SELECT DISTINCT log_date FROM read_parquet('{root}/songplays/*/*.parquet',"
        " hive_partitioning=true) ORDER BY 1"
    ).fetchall()
    assert [d for (d,) in days] == DAYS
    for dataset in SNAPSHOT_DATASETS:
        assert [p.name for p in (root / dataset.name).iterdir()] == [
            f"snapshot_date={TODAY.isoformat()}"
        ]
    manifest = json.loads((root / f"_manifests/log_date={DAYS[0]}.json").read_text())
    assert set(manifest["datasets"]) == {d.name for d in DAILY_DATASETS}


def test_s3_objects_are_encrypted_at_rest(
    warehouse_url: str,
    small_source: Path,
    s3_bucket: S3Bucket,
) -> None:
    res = resources(warehouse_url, small_source, s3_bucket.url("b"))
    assert build_warehouse(defs, resources=res, log_dates=DAYS[:1]).succeeded
    keys = [o["Key"] for o in s3_bucket.client.list_objects_v2(Bucket=s3_bucket.name)["Contents"]]
    assert any(k.endswith(".parquet") for k in keys)
    for key in keys:
        head = s3_bucket.client.head_object(Bucket=s3_bucket.name, Key=key)
        assert head["ServerSideEncryption"] == "AES256", key


def test_s3_objects_are_encrypted_with_the_configured_kms_key(
    warehouse_url: str,
    small_source: Path,
    s3_bucket: S3Bucket,
) -> None:
    import boto3

    key_id = boto3.client("kms", endpoint_url=s3_bucket.endpoint_url).create_key()["KeyMetadata"][
        "KeyId"
    ]
    res = resources(warehouse_url, small_source, s3_bucket.url("b"), kms_key_id=key_id)
    assert build_warehouse(defs, resources=res, log_dates=DAYS[:1]).succeeded
    keys = [o["Key"] for o in s3_bucket.client.list_objects_v2(Bucket=s3_bucket.name)["Contents"]]
    for key in keys:
        head = s3_bucket.client.head_object(Bucket=s3_bucket.name, Key=key)
        assert head["ServerSideEncryption"] == "aws:kms", key
        assert key_id in head["SSEKMSKeyId"], key
    # ... and the restore reads them back.
    drop_every_table(warehouse_url)
    assert run_restore(res).success


# -- replacing and restoring parts -----------------------------------------------------------------


def test_backing_up_a_corrected_day_replaces_exactly_its_files(
    warehouse_url: str, small_source: Path, backup: Backup
) -> None:
    res = resources(warehouse_url, small_source, backup.url)
    assert build_warehouse(defs, resources=res).succeeded
    before = backup.keys()
    day = DAYS[1]
    day_folder = f"songplays/log_date={day.isoformat()}/"
    # A leftover of some earlier, larger export of that day.
    leftover = backup.local_copy() / day_folder / "part-00000000T000000-old-00001.parquet"
    pq.write_table(
        pq.read_table(next((backup.local_copy() / day_folder).glob("*.parquet"))), leftover
    )
    if backup.url.startswith("s3://"):
        bucket, _, prefix = backup.url.removeprefix("s3://").partition("/")
        import boto3

        boto3.client("s3").upload_file(
            str(leftover), bucket, f"{prefix}/{day_folder}{leftover.name}"
        )
    else:
        pass  # written in place

    # The correction: one play of the day changes level.
    with psycopg.connect(warehouse_url) as connection:
        (changed,) = connection.execute(
            "UPDATE songplays SET level = 'corrected' WHERE songplay_id = ("
            " SELECT MIN(songplay_id) FROM songplays WHERE start_time >= %(d)s"
            " AND start_time < %(d)s + INTERVAL '1 day') RETURNING songplay_id",
            {"d": day},
        ).fetchone()  # type: ignore[misc]
    result = back_up(res, day, day)
    assert result.success

    after = backup.keys()
    day_keys = {k for k in after if f"log_date={day.isoformat()}" in k}
    other = {k for k in after if "log_date=" in k and k not in day_keys}
    assert other == {k for k in before if "log_date=" in k and f"log_date={day}" not in k}
    old_day_keys = {
        k for k in before if f"log_date={day.isoformat()}" in k and "_manifests" not in k
    }
    assert not (old_day_keys & day_keys), "old files of the day are still there"
    assert not any("-old-" in k for k in after)
    rows = pq.read_table(backup.local_copy() / day_folder).to_pylist()
    assert [r["level"] for r in rows if r["songplay_id"] == changed] == ["corrected"]
    [check] = result.get_asset_check_evaluations()
    assert check.passed


def test_restoring_a_range_leaves_other_days_untouched(
    warehouse_url: str, small_source: Path, backup: Backup
) -> None:
    res = resources(warehouse_url, small_source, backup.url)
    assert build_warehouse(defs, resources=res).succeeded
    original = all_rows(warehouse_url)
    # Lose days 2 and 4 of the fact tables and staging.
    lost = [DAYS[2], DAYS[4]]
    with psycopg.connect(warehouse_url) as connection:
        for day in lost:
            for sql in (
                "DELETE FROM songplays WHERE start_time::date = %(d)s",
                "DELETE FROM time WHERE start_time::date = %(d)s",
                "DELETE FROM staging_events WHERE log_date = %(d)s",
            ):
                connection.execute(sql, {"d": day})
    damaged = all_rows(warehouse_url)

    result = run_restore(res, first_day=DAYS[2].isoformat(), last_day=DAYS[2].isoformat())
    assert result.success, failure_message(result)

    now = all_rows(warehouse_url)
    assert now["users"] == damaged["users"]  # no snapshot restored for a range by default

    def of_day(rows: list[tuple[Any, ...]], column: int, day: date) -> list[tuple[Any, ...]]:
        return [
            r
            for r in rows
            if (r[column].date() if isinstance(r[column], datetime) else r[column]) == day
        ]

    for table, column in (("songplays", 1), ("time", 0), ("staging_events", 0)):
        assert of_day(now[table], column, DAYS[2]) == of_day(original[table], column, DAYS[2]), (
            table
        )
        assert of_day(now[table], column, DAYS[4]) == [], table  # not in the range: still lost
        for day in set(DAYS) - set(lost):
            assert of_day(now[table], column, day) == of_day(original[table], column, day), (
                table,
                day,
            )


def test_snapshots_older_than_the_retention_are_pruned(
    warehouse_url: str, small_source: Path, tmp_path: Path
) -> None:
    root = tmp_path / "b"
    root.mkdir()
    res = resources(warehouse_url, small_source, str(root), snapshot_retention=2)
    assert build_warehouse(defs, resources=res, log_dates=DAYS[:1]).succeeded
    # Pretend two earlier runs, on earlier dates, left their snapshots.
    for age in (1, 2):
        old = TODAY - timedelta(days=age)
        for dataset in SNAPSHOT_DATASETS:
            folder = root / dataset.name / f"snapshot_date={old}"
            folder.mkdir(parents=True)
            for written in (root / dataset.name / f"snapshot_date={TODAY}").glob("*"):
                shutil.copy(written, folder)
        manifest = (root / f"_manifests/snapshot_date={TODAY}.json").read_text()
        (root / f"_manifests/snapshot_date={old}.json").write_text(manifest)

    assert back_up(res, DAYS[0], DAYS[0]).success

    kept = sorted(p.name for p in (root / "users").iterdir())
    assert kept == [f"snapshot_date={TODAY - timedelta(days=1)}", f"snapshot_date={TODAY}"]
    assert not (root / f"_manifests/snapshot_date={TODAY - timedelta(days=2)}.json").exists()


# -- failures --------------------------------------------------------------------------------------


def test_a_missing_backup_location_is_a_clear_error_and_changes_nothing(
    warehouse_url: str,
    small_source: Path,
    s3_bucket: S3Bucket,
    tmp_path: Path,
) -> None:
    res = resources(warehouse_url, small_source, "")
    assert build_warehouse(defs, resources=res, log_dates=DAYS[:2]).succeeded
    before = all_rows(warehouse_url)

    missing_bucket = "s3://sparkify-no-such-bucket/backups"
    missing_dir = str(tmp_path / "nowhere")
    for url, words in ((missing_bucket, "does not exist"), (missing_dir, "does not exist")):
        result = back_up(resources(warehouse_url, small_source, url), DAYS[0], DAYS[0])
        assert not result.success
        assert words in failure_message(result) and url.split("/")[-2] in failure_message(result)
        restore = run_restore(resources(warehouse_url, small_source, url))
        assert not restore.success
        assert words in failure_message(restore)
        assert all_rows(warehouse_url) == before

    # No backup URL at all: the asset says what to set.
    result = back_up(res, DAYS[0], DAYS[0])
    assert "SPARKIFY_BACKUP_URL is not set" in failure_message(result)

    # A location that exists but holds no backup of the range asked for.
    empty = tmp_path / "empty"
    empty.mkdir()
    restore = run_restore(
        resources(warehouse_url, small_source, str(empty)),
        first_day=DAYS[0].isoformat(),
        last_day=DAYS[1].isoformat(),
    )
    assert "no backup of 2 day(s)" in failure_message(restore)
    assert all_rows(warehouse_url) == before


def test_an_unwritable_s3_location_is_a_clear_error(
    warehouse_url: str,
    small_source: Path,
    s3_bucket: S3Bucket,
    s3_server_url: str,
) -> None:
    res = resources(warehouse_url, small_source, "")
    assert build_warehouse(defs, resources=res, log_dates=DAYS[:1]).succeeded
    before = all_rows(warehouse_url)
    with FaultyS3Front(s3_server_url, failures=10_000, status=403, code="AccessDenied") as front:
        denied = resources(
            warehouse_url, small_source, s3_bucket.url("b"), s3_endpoint_url=front.url
        )
        result = back_up(denied, DAYS[0], DAYS[0])
        message = failure_message(result)
        assert "access denied to the backup location" in message and "403" in message
        restore = run_restore(denied)
        assert "access denied" in failure_message(restore)
    assert all_rows(warehouse_url) == before
    assert "Contents" not in s3_bucket.client.list_objects_v2(Bucket=s3_bucket.name)


def test_a_damaged_backup_is_refused_before_anything_changes(
    warehouse_url: str, small_source: Path, tmp_path: Path
) -> None:
    root = tmp_path / "b"
    root.mkdir()
    res = resources(warehouse_url, small_source, str(root))
    assert build_warehouse(defs, resources=res, log_dates=DAYS[:2]).succeeded
    before = all_rows(warehouse_url)

    victim = next((root / f"time/log_date={DAYS[1]}").glob("*.parquet"))
    victim.unlink()
    result = run_restore(res)
    assert "missing" in failure_message(result) and victim.name in failure_message(result)
    assert all_rows(warehouse_url) == before

    # A file of another schema in its place.
    pq.write_table(pq.read_table(next((root / f"songs/snapshot_date={TODAY}").glob("*"))), victim)
    manifest_path = root / f"_manifests/log_date={DAYS[1]}.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["datasets"]["time"]["files"] = [
        {"key": f"time/log_date={DAYS[1]}/{victim.name}", "rows": 1, "bytes": victim.stat().st_size}
    ]
    manifest_path.write_text(json.dumps(manifest))
    result = run_restore(res)
    assert "expected columns" in failure_message(result)
    assert all_rows(warehouse_url) == before


# -- the command line and the definitions ------------------------------------------------------------


def _command_env(warehouse_url: str, source: Path, home: Path, backup_url: str) -> dict[str, str]:
    home.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "SPARKIFY_WAREHOUSE_URL": warehouse_url,
        "SPARKIFY_SOURCE_URL": str(source),
        "DAGSTER_HOME": str(home),
    }
    env.pop("SPARKIFY_BACKUP_URL", None)
    if backup_url:
        env["SPARKIFY_BACKUP_URL"] = backup_url
    return env


def test_sparkify_build_backs_up_and_sparkify_restore_restores(
    warehouse_url: str, small_source: Path, tmp_path: Path
) -> None:
    root = tmp_path / "backups"
    root.mkdir()
    env = _command_env(warehouse_url, small_source, tmp_path / "home", str(root))
    sparkify = str(Path(sys.executable).parent / "sparkify")
    build = subprocess.run(
        [sparkify, "build"], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    assert sorted(p.name for p in (root / "songplays").iterdir()) == [f"log_date={d}" for d in DAYS]

    drop_every_table(warehouse_url)
    restore = subprocess.run(
        [sparkify, "restore"], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert restore.returncode == 0, restore.stdout[-2000:] + restore.stderr[-2000:]
    assert "restore succeeded" in restore.stdout
    assert_matches_reference(warehouse_url, reference_warehouse(small_source))

    missing = subprocess.run(
        [sparkify, "restore", "--from", str(tmp_path / "nowhere")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert missing.returncode == 1
    assert "does not exist" in missing.stdout + missing.stderr


def test_sparkify_build_without_a_backup_url_leaves_the_backup_alone(
    warehouse_url: str, small_source: Path, tmp_path: Path
) -> None:
    outcome = build_warehouse(
        defs,
        resources={**resources(warehouse_url, small_source, ""), "backup": BackupResource()},
        log_dates=DAYS[:1],
    )
    assert outcome.succeeded
    assert not [
        e for e in outcome.check_evaluations if e.asset_key.to_user_string() == "warehouse_backup"
    ]


@pytest.mark.parametrize("backup_url", ["", "s3://sparkify-backups/warehouse"])
def test_the_backup_is_automated_only_with_a_backup_url(backup_url: str, tmp_path: Path) -> None:
    """The automation condition is decided when the code location loads, from the environment."""
    env = _command_env("", tmp_path, tmp_path / "home", backup_url)
    probe = subprocess.run(
        [
            sys.executable,
            "-W",
            "ignore",
            "-c",
            "from sparkify_assets.definitions import defs;"
            "spec = defs.resolve_asset_graph().get(__import__('dagster').AssetKey('warehouse_backup'));"
            "print(spec.automation_condition is not None)",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    assert probe.stdout.strip() == str(bool(backup_url))


def test_the_documented_parquet_schema_is_the_one_written() -> None:
    """docs/backups.md lists every column's Parquet type per table: exactly the code's schema."""
    physical = {
        "string": "BYTE_ARRAY (STRING)",
        "int32": "INT32",
        "int64": "INT64",
        "double": "DOUBLE",
        "date32[day]": "INT32 (DATE)",
        "timestamp[us]": "INT64 (TIMESTAMP, MICROS, not UTC-adjusted)",
    }
    text = (Path(__file__).parents[1] / "docs" / "backups.md").read_text(encoding="utf-8")
    documented: dict[str, list[tuple[str, str, bool]]] = {}
    table = ""
    for line in text.splitlines():
        if line.startswith("#### "):
            table = line[5:].strip()
            documented[table] = []
        elif table and line.startswith("| ") and not line.startswith("| column"):
            column, _, parquet, required = (cell.strip() for cell in line.strip("|").split("|"))
            documented[table].append((column, parquet, required == "yes"))
        elif table and not line.strip().startswith("|") and documented[table]:
            table = ""
    expected = {
        t: [(f.name, physical[str(f.type)], not f.nullable) for f in table_parquet_schema(t)]
        for t in dict.fromkeys(d.table for d in ALL_DATASETS)
    }
    assert documented == expected


def test_a_restore_that_loads_other_counts_than_the_manifests_is_refused() -> None:
    plan = RestorePlan(window=None, days=[], snapshot_date=DAYS[0], parts=[])
    nothing = dict.fromkeys(plan.tables, 0)

    plan.check_restored(nothing)  # the manifests list no rows: none is right
    with pytest.raises(BackupError, match="rolled back, the warehouse is unchanged"):
        plan.check_restored({**nothing, "users": 1})
