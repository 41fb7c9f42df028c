"""The Redshift engine's own Python path, run for real against PostgreSQL through redshift_connector.

tests/support/redshift_copy_emulation.py says what is real (the driver, the server, the engine's
SQL) and what is stood in for (the Redshift-only DDL clauses; COPY from S3 and its system logs).
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
import psycopg
import pytest

from sparkify_assets.sample_data.generator import write_sample_source
from sparkify_assets.sample_data.spec import SampleSpec
from sparkify_assets.settings.problems import SettingProblem
from sparkify_assets.source.local_tree import LocalSourceTree
from sparkify_assets.warehouse.check_results import run_table_checks
from sparkify_assets.warehouse.engine_choice import connect_warehouse
from sparkify_assets.warehouse.interface import transform_statements
from sparkify_assets.warehouse.load_window import LoadWindow
from sparkify_assets.warehouse.postgres.engine import PostgresWarehouse
from sparkify_assets.warehouse.redshift.connection import RedshiftTarget, connect_arguments
from sparkify_assets.warehouse.redshift.engine import RedshiftWarehouse
from sparkify_assets.warehouse.redshift.errors import RedshiftError, RedshiftLoadRejected
from sparkify_assets.warehouse.schema_versions import CURRENT_VERSION, SchemaVersionMismatch
from sparkify_assets.warehouse.settings import WarehouseSettings
from sparkify_assets.warehouse.sql_files import SqlStatement, statement
from sparkify_assets.warehouse.tables import WAREHOUSE_TABLES
from tests.support.log_events import log_event
from tests.support.redshift_copy_emulation import (
    BUCKET_URL,
    ETL,
    IAM_ROLE,
    Database,
    S3UrlTree,
    open_emulated,
)
from tests.support.redshift_copy_emulation import adhoc as _adhoc
from tests.support.redshift_wire_proxy import RedshiftWireProxy

SPEC = SampleSpec(seed=11, days=4, events_per_day=120, users=20, catalog_songs=40)
FIRST_DAY = SPEC.start
WINDOW = LoadWindow(FIRST_DAY, FIRST_DAY + timedelta(days=SPEC.days))


@pytest.fixture(scope="module")
def sample_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("redshift_source")
    write_sample_source(root, SPEC)
    return root


# -- connection settings (no server) ----------------------------------------------------------------


def test_url_defaults_to_verified_ssl_on_port_5439() -> None:
    target = RedshiftTarget.from_url(
        "redshift://etl@sparkify.c1abc2def3gh.us-west-2.redshift.amazonaws.com/sparkify"
    )
    assert (target.port, target.database, target.sslmode) == (5439, "sparkify", "verify-full")
    assert (target.cluster_identifier, target.region) == ("sparkify", "us-west-2")
    arguments = connect_arguments(target, WarehouseSettings(url="x", password="pw"))
    assert arguments["ssl"] is True and arguments["sslmode"] == "verify-full"
    assert (arguments["user"], arguments["password"]) == ("etl", "pw")
    verify_ca = RedshiftTarget.from_url("redshift://etl@db.example.com:5439/dev?sslmode=verify-ca")
    assert connect_arguments(verify_ca, WarehouseSettings(password="pw"))["sslmode"] == "verify-ca"


@pytest.mark.parametrize(
    "url",
    [
        "redshift://etl@db.example.com:5439/dev?sslmode=disable",
        "redshift://etl@10.0.0.5:5439/dev?sslmode=disable",
        "redshift://etl@db.example.com/dev?sslmode=require",  # the driver would ignore it
        "redshift://etl@db.example.com/dev?sslmode=prefer",
    ],
)
def test_ssl_cannot_be_switched_off_for_a_real_host(url: str) -> None:
    with pytest.raises(ValueError, match="sslmode"):
        RedshiftTarget.from_url(url)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_ssl_off_only_for_loopback(host: str) -> None:
    target = RedshiftTarget.from_url(f"redshift://etl@{host}:6000/dev?sslmode=disable")
    arguments = connect_arguments(target, WarehouseSettings(password="pw"))
    assert arguments["ssl"] is False and "sslmode" not in arguments


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redshift://etl:secret@db.example.com/dev", "SPARKIFY_WAREHOUSE_PASSWORD"),
        ("redshift://db.example.com/dev", "user"),
        ("redshift://etl@db.example.com/dev?ssl=false", "unknown"),
        ("postgresql://etl@db.example.com/dev", "redshift://"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RedshiftTarget.from_url(url)


def test_a_misconfigured_url_fails_the_step_without_retries() -> None:
    settings = WarehouseSettings(
        url="redshift://etl@db.example.com/dev?sslmode=disable", password="pw"
    )
    with pytest.raises(dg.Failure) as failed:
        RedshiftWarehouse.connect(settings)  # refused before any network access
    assert not failed.value.allow_retries
    assert "sslmode=disable is only for a loopback host" in str(failed.value.description)


def test_iam_authentication_when_there_is_no_password() -> None:
    target = RedshiftTarget.from_url(
        "redshift://etl@sparkify.c1abc2def3gh.us-west-2.redshift.amazonaws.com:5439/sparkify"
    )
    arguments = connect_arguments(target, WarehouseSettings(region="eu-west-1"))
    assert arguments["iam"] is True
    assert (arguments["db_user"], arguments["cluster_identifier"]) == ("etl", "sparkify")
    assert arguments["region"] == "eu-west-1"  # the setting wins over the host's region
    assert arguments["ssl"] is True
    custom = RedshiftTarget.from_url("redshift://etl@warehouse.example.com/dev")
    with pytest.raises(ValueError, match="cluster_identifier"):
        connect_arguments(custom, WarehouseSettings())
    named = RedshiftTarget.from_url(
        "redshift://etl@warehouse.example.com/dev?cluster_identifier=prod"
    )
    assert connect_arguments(named, WarehouseSettings())["cluster_identifier"] == "prod"


# -- the driver path through the proxy --------------------------------------------------------------


def test_connects_through_the_warehouse_settings(database: Database) -> None:
    with connect_warehouse(database.settings()) as warehouse:
        assert isinstance(warehouse, RedshiftWarehouse)
        assert warehouse.engine == "redshift"
        (location,) = warehouse.query(statement("catalog.current_location"))
        assert location["schema_name"] == "public"
        (session,) = warehouse.query(
            _adhoc(
                "SELECT current_user AS who, a.application_name, s.ssl FROM pg_stat_activity a"
                " JOIN pg_stat_ssl s USING (pid) WHERE a.pid = pg_backend_pid()"
            )
        )
    assert session == {"who": ETL.user, "application_name": "sparkify_assets", "ssl": False}


def test_pyformat_parameters_of_every_type(database: Database) -> None:
    sql = _adhoc(
        "SELECT %(day)s AS day, %(moment)s AS moment, %(text)s AS text, %(count)s AS count,"
        " %(share)s AS share, CAST(%(missing)s AS INTEGER) AS missing, %(count)s + 1 AS again"
    )
    params = {
        "day": date(2018, 11, 1),
        "moment": datetime(2018, 11, 1, 21, 1, 46, 796000),
        "text": "O'Brien; DROP TABLE users --",
        "count": 70_000,
        "share": 0.01,
        "missing": None,
    }
    with RedshiftWarehouse.connect(database.settings()) as warehouse:
        (row,) = warehouse.query(sql, params)
    assert row == {**params, "missing": None, "again": 70_001}


def test_a_failed_statement_rolls_the_transaction_back(database: Database) -> None:
    with RedshiftWarehouse.connect(database.settings()) as warehouse:
        with warehouse.transaction() as session:
            session.execute(_adhoc("CREATE TABLE probe (n INTEGER)"))
        with pytest.raises(RedshiftError) as failed, warehouse.transaction() as session:
            assert session.execute(_adhoc("INSERT INTO probe VALUES (1), (2)")) == 2
            session.execute(_adhoc("INSERT INTO probe VALUES ('not a number')"))
        assert failed.value.sqlstate == "22P02"
        assert failed.value.statement_key == "tests/emulated_copy"
        assert not failed.value.retryable
        # The connection is usable again and the first insert is gone.
        assert warehouse.query(_adhoc("SELECT COUNT(*) AS n FROM probe")) == [{"n": 0}]
        with warehouse.transaction() as session:
            session.execute(_adhoc("INSERT INTO probe VALUES (3)"))
    assert database.rows("SELECT n FROM probe") == [(3,)]


def test_errors_name_the_statement_never_its_sql(database: Database) -> None:
    secret_sql = _adhoc("SELECT password_column_that_is_not_there FROM nowhere_table")
    with RedshiftWarehouse.connect(database.settings()) as warehouse:
        with pytest.raises(RedshiftError) as missing:
            warehouse.query(secret_sql)
        with pytest.raises(RedshiftError) as syntax:
            warehouse.query(SqlStatement("checks/users.unique_ids", "SELEC 1", Path("x")))
        with pytest.raises(RedshiftError) as serialization:
            warehouse.query(
                _adhoc(
                    "DO $$ BEGIN RAISE EXCEPTION '1023 Serializable isolation violation on table'"
                    " USING ERRCODE = 'XX000'; END $$"
                )
            )
    assert missing.value.sqlstate == "42P01" and not missing.value.retryable
    assert "nowhere_table" in str(missing.value)  # the server's message ...
    assert "password_column_that_is_not_there FROM" not in str(missing.value)  # ... not the SQL
    assert str(syntax.value.description).startswith(
        "Redshift statement checks/users.unique_ids failed"
    )
    assert syntax.value.sqlstate == "42601"
    assert serialization.value.retryable  # a retry can fix it
    assert isinstance(serialization.value, dg.Failure)
    assert serialization.value.allow_retries


def test_connection_failures(database: Database, proxy: RedshiftWireProxy) -> None:
    """A refused login fails at once and names the setting; a refused connection may heal."""
    with pytest.raises(SettingProblem) as wrong_password:
        RedshiftWarehouse.connect(database.settings(password="wrong " + ETL.password))
    assert wrong_password.value.setting == "SPARKIFY_WAREHOUSE_PASSWORD"
    assert "password authentication failed" in wrong_password.value.message
    assert not wrong_password.value.can_heal and not wrong_password.value.allow_retries
    assert ETL.password not in str(wrong_password.value)
    assert ETL.password not in repr(wrong_password.value.metadata)

    closed_port = database.redshift_url.replace(f":{proxy.port}/", ":1/")
    with pytest.raises(SettingProblem) as refused:
        RedshiftWarehouse.connect(database.settings(url=closed_port))
    assert refused.value.setting == "SPARKIFY_WAREHOUSE_URL"
    assert refused.value.message.startswith("SPARKIFY_WAREHOUSE_URL: cannot reach Redshift at")
    assert refused.value.can_heal and refused.value.allow_retries  # a network failure may pass

    missing_database = urlunsplit(
        urlsplit(database.redshift_url)._replace(path="/no_such_database")
    )
    with pytest.raises(SettingProblem) as missing:
        RedshiftWarehouse.connect(database.settings(url=missing_database))
    assert missing.value.setting == "SPARKIFY_WAREHOUSE_URL"
    assert not missing.value.can_heal


def test_lock_for_write_blocks_other_writers(database: Database, postgres_shaped_ddl: None) -> None:
    with RedshiftWarehouse.connect(database.settings()) as warehouse:
        warehouse.ensure_tables()
        with warehouse.transaction() as session:
            session.lock_for_write("users")
            with psycopg.connect(database.admin_url) as other:
                other.execute("SET lock_timeout = '200ms'")
                with pytest.raises(psycopg.errors.LockNotAvailable):
                    other.execute("INSERT INTO users VALUES (1, 'a', 'b', 'F', 'free')")
        with pytest.raises(ValueError), warehouse.transaction() as session:
            session.lock_for_write("pg_authid")


def test_ensure_tables_and_describe(database: Database, postgres_shaped_ddl: None) -> None:
    with RedshiftWarehouse.connect(database.settings()) as warehouse:
        warehouse.ensure_tables()
        warehouse.ensure_tables()  # idempotent
        described = warehouse.describe_table("staging_events")
    assert {
        r[0]
        for r in database.rows(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
    } >= set(WAREHOUSE_TABLES)
    assert described.description and "log day" in described.description
    columns = {c.name: c for c in described.columns}
    assert list(columns)[:2] == ["log_date", "artist"]
    assert columns["artist"].data_type == "character varying(512)"
    assert columns["log_date"].not_null and not columns["artist"].not_null
    assert columns["start_time"].description == "Event time as a UTC timestamp."


# -- staging, transforms and checks through the driver ----------------------------------------------


def run_pipeline(
    warehouse: Any, tree: Any, window: LoadWindow, log: Any
) -> dict[str, list[dg.AssetCheckResult]]:
    """What the assets do, in their order: both loads, every transform, every check."""
    warehouse.ensure_tables()
    songs = warehouse.load_song_catalog(tree, run_id="run-1", log=log)
    events = warehouse.load_event_days(tree, window, run_id="run-1", log=log)
    params = window.sql_params()
    for table, table_params in (
        ("users", params),
        ("songs", {}),
        ("artists", {}),
        ("songplays", params),
        ("time", params),
    ):
        warehouse.replace_rows(table, transform_statements(table), table_params)
    checks = {
        "staging_events": run_table_checks(
            warehouse,
            "staging_events",
            {**params, "loaded_rows": events.rows_loaded, "max_quarantine_share": 0.05},
        ),
        "staging_songs": run_table_checks(
            warehouse,
            "staging_songs",
            {"loaded_rows": songs.rows_loaded, "max_quarantine_share": 0.05},
        ),
    }
    for table in ("users", "songs", "artists", "songplays", "time"):
        checks[table] = run_table_checks(warehouse, table, params)
    return checks


TABLE_COLUMNS = {
    "staging_events": "log_date, artist, auth, first_name, gender, item_in_session, last_name,"
    " length, level, location, method, page, registration, session_id, song, status, ts,"
    " start_time, user_agent, user_id, source_file",  # source_line: COPY does not give it
    "staging_songs": "num_songs, artist_id, artist_latitude, artist_longitude, artist_location,"
    " artist_name, song_id, title, duration, year",  # source_file: COPY does not give it
    "users": "*",
    "songs": "*",
    "artists": "*",
    "songplays": "*",
    "time": "*",
}


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(url) as connection:
        return {
            table: sorted(
                connection.execute(f"SELECT {columns} FROM {table}").fetchall(),
                key=repr,
            )
            for table, columns in TABLE_COLUMNS.items()
        }


def test_redshift_engine_builds_the_tables_the_postgres_engine_builds(
    database: Database,
    warehouse_url: str,
    sample_root: Path,
    postgres_shaped_ddl: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    logged: list[str] = []
    caplog.set_level(logging.DEBUG)
    with open_emulated(database, sample_root) as redshift:
        redshift_checks = run_pipeline(redshift, S3UrlTree(sample_root), WINDOW, logged.append)
    with PostgresWarehouse(warehouse_url) as postgres:
        postgres_checks = run_pipeline(
            postgres, LocalSourceTree(sample_root), WINDOW, lambda _: None
        )

    for table, results in redshift_checks.items():
        failed = [(r.check_name, r.metadata) for r in results if not r.passed]
        assert not failed, (table, failed)
        assert len(results) == len(postgres_checks[table])

    on_redshift = snapshot(database.admin_url)
    on_postgres = snapshot(warehouse_url)
    for table in TABLE_COLUMNS:
        assert on_redshift[table], table
        assert on_redshift[table] == on_postgres[table], table
    # The star schema was really exercised: plays matched to the catalog, several days.
    assert any(row[4] is not None for row in on_redshift["songplays"])
    assert {row[0] for row in on_redshift["staging_events"]} == set(WINDOW.days())
    # Logs name files and statements; no SQL text, no credentials.
    everything = "\n".join(logged + [r.getMessage() for r in caplog.records])
    assert "log_data/2018/11/2018-11-01-events.json: " in everything
    assert ETL.password not in everything
    assert "IAM_ROLE" not in everything and IAM_ROLE not in everything
    assert "INSERT INTO" not in everything and "DELETE FROM" not in everything  # no SQL text


MESSY_LINES = [
    # (what, line) for one day, 2018-11-01; the good events come first.
    ("good", {"userId": "7", "sessionId": 1, "itemInSession": 0, "ts": 1541030400000}),
    (
        "good, anonymous",
        {
            "userId": "",
            "sessionId": 2,
            "itemInSession": 0,
            "ts": 1541030401000,
            "registration": None,
        },
    ),
    ("duplicate", {"userId": "7", "sessionId": 1, "itemInSession": 0, "ts": 1541030400000}),
    (
        "ts on the next day",
        {"userId": "7", "sessionId": 1, "itemInSession": 1, "ts": 1541116800000},
    ),
    (
        "userId not numeric",
        {"userId": "abc", "sessionId": 1, "itemInSession": 2, "ts": 1541030402000},
    ),
    (
        "page missing",
        {"userId": "7", "sessionId": 1, "itemInSession": 3, "ts": 1541030403000, "page": None},
    ),
    (
        "artist too long",
        {
            "userId": "7",
            "sessionId": 1,
            "itemInSession": 4,
            "ts": 1541030404000,
            "artist": "x" * 513,
        },
    ),
    (
        "sessionId not an integer",
        {"userId": "7", "sessionId": "one", "itemInSession": 5, "ts": 1541030405000},
    ),
]


@pytest.fixture
def messy_root(tmp_path: Path, sample_root: Path) -> Path:
    (tmp_path / "log_json_path.json").write_text((sample_root / "log_json_path.json").read_text())
    day = tmp_path / "log_data/2018/11/2018-11-01-events.json"
    day.parent.mkdir(parents=True)
    lines = [json.dumps(log_event(**fields)).encode() for _, fields in MESSY_LINES]
    lines.insert(3, b"{not json")
    day.write_bytes(b"\n".join(lines) + b"\n")
    return tmp_path


def test_bad_lines_are_quarantined_with_their_reason(
    database: Database, messy_root: Path, postgres_shaped_ddl: None
) -> None:
    logged: list[str] = []
    window = LoadWindow.single_day(date(2018, 11, 1))
    with open_emulated(database, messy_root) as warehouse:
        warehouse.ensure_tables()
        report = warehouse.load_event_days(
            S3UrlTree(messy_root), window, run_id="run-7", log=logged.append
        )
        (failures,) = [
            r
            for r in run_table_checks(
                warehouse,
                "staging_events",
                {
                    **window.sql_params(),
                    "loaded_rows": report.rows_loaded,
                    "max_quarantine_share": 0.9,
                },
            )
            if r.check_name == "unique_events"
        ]
    assert failures.passed
    assert (report.rows_loaded, report.rows_rejected) == (2, 7)
    staged = database.rows(
        "SELECT user_id, session_id, item_in_session, registration, source_line FROM staging_events ORDER BY session_id"
    )
    assert staged == [(7, 1, 0, 1540919166796, None), (None, 2, 0, None, None)]
    quarantined = database.rows(
        "SELECT reason, line_number, source_file, log_date, run_id FROM load_quarantine ORDER BY reason"
    )
    reasons = sorted(q[0] for q in quarantined)
    assert reasons[:4] == [
        "duplicate of an event with the same user, session, item in session and ts",
        "page is missing",
        "rejected by Redshift COPY: Invalid JSON object (error 1224)",
        "rejected by Redshift COPY: Invalid digit (error 1207, column sessionid)",
    ]
    assert (
        reasons[4]
        == "rejected by Redshift COPY: String length exceeds DDL length (error 1204, column artist)"
    )
    assert reasons[5] == "ts 1541116800000 is not on 2018-11-01 (UTC)"
    assert reasons[6] == "userId is not a numeric string"
    assert {q[2] for q in quarantined} == {"log_data/2018/11/2018-11-01-events.json"}
    assert {q[3] for q in quarantined} == {date(2018, 11, 1)}
    assert {q[4] for q in quarantined} == {"run-7"}
    copy_lines = {q[1] for q in quarantined if q[0].startswith("rejected by Redshift COPY")}
    assert copy_lines == {4, 8, 9}  # the line numbers stl_load_errors gives
    # The run log shows every rejected line and the per-file result.
    assert any("line 4 rejected by Redshift COPY: Invalid JSON object" in line for line in logged)
    assert "log_data/2018/11/2018-11-01-events.json: 2 events loaded, 7 quarantined" in logged


def test_a_failed_copy_reports_its_rejected_lines_and_changes_nothing(
    database: Database, messy_root: Path, sample_root: Path, postgres_shaped_ddl: None
) -> None:
    window = LoadWindow.single_day(date(2018, 11, 1))
    with open_emulated(database, sample_root) as warehouse:
        warehouse.ensure_tables()
        first = warehouse.load_event_days(
            S3UrlTree(sample_root), window, run_id="run-1", log=lambda _: None
        )
    before = database.rows("SELECT COUNT(*) FROM staging_events")
    assert before == [(first.rows_loaded,)]

    logged: list[str] = []
    warehouse = open_emulated(database, messy_root)
    warehouse.max_errors = 1  # as if MAXERROR 1: three rejected lines fail the COPY
    with warehouse:
        with pytest.raises(RedshiftLoadRejected) as failed:
            warehouse.load_event_days(
                S3UrlTree(messy_root), window, run_id="run-2", log=logged.append
            )
        # The connection is still usable after the failed COPY.
        assert warehouse.query(_adhoc("SELECT 1 AS one")) == [{"one": 1}]
    error = failed.value
    assert not error.allow_retries
    assert cast(Any, error.metadata["rejected_lines"]).value == 3
    description = error.description or ""
    rejections = cast(Any, error.metadata["rejections"]).value
    assert [r["line"] for r in rejections] == [4, 8, 9]
    assert rejections[0]["file"] == "log_data/2018/11/2018-11-01-events.json"
    assert "Invalid JSON object" in description
    assert IAM_ROLE not in description and "COPY staged_events" not in description
    assert any("line 9 rejected by Redshift COPY" in line for line in logged)
    assert database.rows("SELECT COUNT(*) FROM staging_events") == before
    assert database.rows("SELECT COUNT(*) FROM load_quarantine WHERE run_id = 'run-2'") == [(0,)]


def test_reloading_a_window_replaces_it(
    database: Database, sample_root: Path, postgres_shaped_ddl: None
) -> None:
    day = LoadWindow.single_day(FIRST_DAY + timedelta(days=1))
    with open_emulated(database, sample_root) as warehouse:
        warehouse.ensure_tables()
        whole = warehouse.load_event_days(
            S3UrlTree(sample_root), WINDOW, run_id="a", log=lambda _: None
        )
        again = warehouse.load_event_days(
            S3UrlTree(sample_root), day, run_id="b", log=lambda _: None
        )
        assert warehouse.row_count("staging_events", WINDOW) == whole.rows_loaded
        assert warehouse.row_count("staging_events", day) == again.rows_loaded


def test_the_song_catalog(database: Database, sample_root: Path, postgres_shaped_ddl: None) -> None:
    logged: list[str] = []
    with open_emulated(database, sample_root) as warehouse:
        warehouse.ensure_tables()
        report = warehouse.load_song_catalog(S3UrlTree(sample_root), run_id="r", log=logged.append)
    song_files = len(list((sample_root / "song_data").rglob("*.json")))
    assert report.rows_loaded == song_files and report.rows_rejected == 0
    assert database.rows("SELECT DISTINCT source_file FROM staging_songs") == [("song_data/",)]
    assert any(line.startswith("song_data/: COPY loaded") for line in logged)


def test_a_local_source_is_refused_with_a_clear_error(
    database: Database, sample_root: Path
) -> None:
    with (
        RedshiftWarehouse.connect(database.settings()) as warehouse,
        pytest.raises(dg.Failure) as failed,
    ):
        warehouse.load_song_catalog(LocalSourceTree(sample_root), run_id="r", log=lambda _: None)
    assert "s3://" in str(failed.value.description) and not failed.value.allow_retries


def test_copy_needs_the_iam_role(database: Database, sample_root: Path) -> None:
    with (
        RedshiftWarehouse.connect(database.settings(iam_role_arn="")) as warehouse,
        pytest.raises(dg.Failure) as failed,
    ):
        warehouse.load_event_days(S3UrlTree(sample_root), WINDOW, run_id="r", log=lambda _: None)
    assert "SPARKIFY_REDSHIFT_IAM_ROLE_ARN" in str(failed.value.description)


def test_a_copy_the_server_refuses_names_the_statement_not_its_text(
    database: Database,
    sample_root: Path,
    postgres_shaped_ddl: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The engine's real run_copy sends the rendered COPY; PostgreSQL refuses it (syntax). The error
    and the logs carry the statement's key and the server's message, not the COPY's text."""
    caplog.set_level(logging.DEBUG)
    logged: list[str] = []
    with RedshiftWarehouse.connect(database.settings()) as warehouse:
        warehouse.ensure_tables()
        with pytest.raises(RedshiftError) as refused:
            warehouse.load_event_days(S3UrlTree(sample_root), WINDOW, run_id="r", log=logged.append)
        assert warehouse.query(_adhoc("SELECT 1 AS one")) == [{"one": 1}]
    error = refused.value
    assert (error.statement_key, error.sqlstate) == ("redshift/staging.copy_log_file", "42601")
    assert not error.retryable
    shown = "\n".join(
        [str(error), repr(error.metadata), *logged, *(r.getMessage() for r in caplog.records)]
    )
    assert IAM_ROLE not in shown and BUCKET_URL not in shown and "COPY staged_events" not in shown
    assert ETL.password not in shown
    assert database.rows("SELECT COUNT(*) FROM staging_events") == [(0,)]


def test_schema_setting_and_version_through_the_driver(
    database: Database, postgres_shaped_ddl: None
) -> None:
    """SPARKIFY_WAREHOUSE_SCHEMA on the Redshift engine: the schema is created and every table is
    in it (the rendered CREATE SCHEMA / SET search_path through redshift_connector); the version
    is recorded there; an unversioned copy is refused, then migrated."""
    with RedshiftWarehouse.connect(database.settings(schema="sparkify_dev")) as warehouse:
        warehouse.ensure_tables()
        assert warehouse.schema_version() == CURRENT_VERSION
        assert warehouse.location().endswith(".sparkify_dev")
    tables = {
        r[0]
        for r in database.rows(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'sparkify_dev'"
        )
    }
    assert tables >= {*WAREHOUSE_TABLES, "sparkify_schema_version"}
    assert not database.rows(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        " AND table_name = 'songplays'"
    )
    with psycopg.connect(database.admin_url) as admin:
        admin.execute("DROP TABLE sparkify_dev.sparkify_schema_version")
    with RedshiftWarehouse.connect(database.settings(schema="sparkify_dev")) as warehouse:
        with pytest.raises(SchemaVersionMismatch, match="sparkify migrate"):
            warehouse.ensure_tables()
        assert warehouse.migrate(lambda line: None) == [CURRENT_VERSION]
        warehouse.ensure_tables()
    assert database.rows("SELECT version FROM sparkify_dev.sparkify_schema_version") == [
        (CURRENT_VERSION,)
    ]
