"""``sparkify redshift-smoke`` against PostgreSQL through redshift_connector, COPY emulated
(tests/support/redshift_copy_emulation.py): every statement kind runs once in a scratch schema and
each outcome is printed; the S3 side (the tiny source, the manifests) is a real S3 server (moto)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql as pgsql

from sparkify_assets.cli import main
from sparkify_assets.warehouse.redshift.engine import RedshiftWarehouse
from sparkify_assets.warehouse.redshift.session import StatementObserver
from sparkify_assets.warehouse.redshift.smoke import run_smoke, settings_from_environment
from sparkify_assets.warehouse.schema_versions import VERSION_TABLE
from sparkify_assets.warehouse.settings import WarehouseSettings
from sparkify_assets.warehouse.tables import WAREHOUSE_TABLES
from tests.support.redshift_copy_emulation import (
    Database,
    EmulatedCopyWarehouse,
    emulated,
)
from tests.support.s3_server import S3Bucket

# Every statement kind the engine issues, by key: each must show "ok" in the report.
EXPECTED_OK = [
    "redshift/smoke.create_schema",
    "redshift/smoke.use_schema",
    "redshift/session.set_statement_timeout",
    "redshift/catalog.existing_tables",
    "redshift/catalog.describe_table",
    "redshift/catalog.lock_table_for_write",
    "redshift/catalog.last_copy_count",
    "redshift/session.server_time",
    "redshift/load_errors.provisioned_watermark",
    "redshift/load_errors.provisioned_errors",
    "redshift/staging.copy_song_files",
    "redshift/staging.copy_log_file",
    "redshift/staging.create_checked_events",
    "redshift/staging.insert_staging_events",
    "redshift/staging.insert_event_quarantine",
    "redshift/staging.insert_copy_rejections",
    "redshift/staging.insert_staging_songs",
    "redshift/upkeep.table_rows",
    "redshift/upkeep.analyze_table",
    "redshift/upkeep.vacuum_delete_only",
    "staging/staging_events.delete_window",
    "transform/users.insert_window_users",
    "transform/songplays.insert_window",
    "transform/songs.insert_all",
    "checks/songplays.catalog_rows_exist",
    "checks/staging_events.row_count",
    "row_counts.songplays",
    "analytics/top_songs_by_month.top_songs_by_month",
    "catalog.current_location",
    "redshift/smoke.drop_schema",
]


class EmulatedConnect:
    """``RedshiftWarehouse.connect`` with the COPY emulated (the smoke test's ``connect``)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.opened: list[EmulatedCopyWarehouse] = []

    def __call__(
        self, settings: WarehouseSettings, *, observer: StatementObserver | None = None
    ) -> RedshiftWarehouse:
        connected = RedshiftWarehouse.connect(settings, observer=observer)
        warehouse = emulated(connected, self.database.admin_url, None)
        self.opened.append(warehouse)
        return warehouse


def smoke(database: Database, bucket: S3Bucket, **overrides: Any) -> tuple[int, list[str], Any]:
    lines: list[str] = []
    connect = EmulatedConnect(database)
    code = run_smoke(
        database.settings(**{"staging_url": "", **overrides}),
        bucket.url("smoke"),
        connect=connect,
        s3_client=bucket.client,
        out=lines.append,
    )
    return code, lines, connect


def test_the_smoke_test_runs_every_statement_kind_and_cleans_up(
    database: Database, s3_bucket: S3Bucket, postgres_shaped_ddl: None
) -> None:
    code, lines, connect = smoke(database, s3_bucket)
    report = "\n".join(lines)
    print(report)  # shown with -s: what an operator sees
    assert code == 0, report
    for key in EXPECTED_OK:
        assert any(line.startswith(key + " ") and line.endswith("  ok") for line in lines), key
    assert "smoke test passed" in report
    # The scratch schema is gone, and nothing was created outside it.
    assert (
        database.rows("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'sparkify_smoke_%'")
        == []
    )
    assert (
        database.rows(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        == []
    )
    # The tiny source's malformed line was quarantined through the load-error log, and the stray
    # object next to the first day's file was never read.
    assert any("rejected by Redshift COPY: Invalid JSON object" in line for line in lines)
    (warehouse,) = connect.opened
    read = [url for urls in warehouse.copies for url in urls]
    assert any(url.endswith("-events.json") for url in read)
    assert not any(url.endswith(".bak") for url in read)
    # The manifests went to the smoke run's own staging prefix.
    keys = [o["Key"] for o in s3_bucket.client.list_objects_v2(Bucket=s3_bucket.name)["Contents"]]
    assert any("/staging/manifests/" in key for key in keys)


def test_a_failing_statement_is_reported_and_the_run_goes_on(
    database: Database, s3_bucket: S3Bucket, postgres_shaped_ddl: None
) -> None:
    code, lines, _ = smoke(database, s3_bucket, iam_role_arn="")
    report = "\n".join(lines)
    assert code == 1
    assert "step song catalog COPY" in report and "SPARKIFY_REDSHIFT_IAM_ROLE_ARN" in report
    assert "smoke test FAILED" in report
    # Later steps still ran (the tables, the checks on empty tables) and the schema was dropped.
    assert any(line.startswith("redshift/catalog.existing_tables ") for line in lines)
    assert any(line.startswith("redshift/smoke.drop_schema ") for line in lines)
    assert (
        database.rows("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'sparkify_smoke_%'")
        == []
    )


def test_the_settings_come_from_the_environment() -> None:
    settings = settings_from_environment(
        {
            "SPARKIFY_WAREHOUSE_URL": "redshift://etl@host/dev",
            "SPARKIFY_REDSHIFT_STAGING_URL": "s3://b/staging",
            "SPARKIFY_REDSHIFT_STATEMENT_TIMEOUT_SECONDS": "60",
        }
    )
    assert settings.staging_url == "s3://b/staging"
    assert (settings.statement_timeout_seconds, settings.connect_timeout_seconds) == (60, 30)
    with pytest.raises(ValueError, match="whole number"):
        settings_from_environment({"SPARKIFY_REDSHIFT_CONNECT_TIMEOUT_SECONDS": "1.5"})


def test_the_command_refuses_a_non_redshift_warehouse(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SPARKIFY_WAREHOUSE_URL", "postgresql://localhost/db")
    assert main(["redshift-smoke", "--bucket-url", "s3://bucket/smoke"]) == 2
    assert "redshift://" in capsys.readouterr().out
    monkeypatch.setenv("SPARKIFY_WAREHOUSE_URL", "redshift://etl@host/dev")
    assert main(["redshift-smoke", "--bucket-url", "/tmp/x"]) == 2
    monkeypatch.setenv("SPARKIFY_REDSHIFT_STATEMENT_TIMEOUT_SECONDS", "soon")
    assert main(["redshift-smoke", "--bucket-url", "s3://bucket/smoke"]) == 2


def test_tables_are_created_in_the_scratch_schema(
    database: Database, s3_bucket: S3Bucket, postgres_shaped_ddl: None
) -> None:
    lines: list[str] = []
    code = run_smoke(
        database.settings(staging_url=""),
        s3_bucket.url("smoke"),
        connect=EmulatedConnect(database),
        s3_client=s3_bucket.client,
        out=lines.append,
        keep_schema=True,
    )
    assert code == 0, "\n".join(lines)
    (schema,) = database.rows(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'sparkify_smoke_%'"
    )
    tables = {
        r[0]
        for r in database.rows(
            f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema[0]}'"
        )
    }
    assert tables == {*WAREHOUSE_TABLES, VERSION_TABLE}  # the schema version is recorded too
    (plays,) = database.rows(f"SELECT COUNT(*) FROM {schema[0]}.songplays")
    assert plays[0] > 0


def test_without_its_scratch_schema_the_smoke_test_touches_nothing(
    database: Database, s3_bucket: S3Bucket, postgres_shaped_ddl: None
) -> None:
    """A user who may not create schemas: the smoke test stops before any table statement, so it
    can never write to the real tables of the session's default schema."""
    name = pgsql.Identifier(urlsplit(database.admin_url).path.lstrip("/"))
    with psycopg.connect(database.admin_url, autocommit=True) as admin:
        admin.execute(pgsql.SQL("ALTER DATABASE {} OWNER TO postgres").format(name))
        admin.execute(pgsql.SQL("REVOKE CREATE ON DATABASE {} FROM PUBLIC").format(name))
    code, lines, _ = smoke(database, s3_bucket)
    report = "\n".join(lines)
    assert code == 1
    assert "nothing else ran" in report and "CREATE on the database" in report
    assert not any(line.startswith("redshift/catalog.existing_tables") for line in lines)
    assert (
        database.rows(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        == []
    )
