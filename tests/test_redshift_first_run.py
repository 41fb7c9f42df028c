"""What a first run on Redshift depends on (issue 12), proven through redshift_connector against
PostgreSQL (tests/support/redshift_copy_emulation.py) and, for the SQL's meaning, against the
PostgreSQL engine too:

1. connection settings: a statement longer than the connect timeout completes; the server bounds
   statements; only failures that can heal are retried;
2. Redshift Serverless: the workgroup's IAM connection, and load errors from sys_load_error_detail;
3. rejected lines found by session and query id (right after a failed, rolled-back COPY), written
   in batches;
5. edge cases with the same answer on both engines (blank and multi-line userIds, titles with
   trailing blanks, a stray object next to a day's file, one song_id in two files);
6. ANALYZE / VACUUM DELETE ONLY after large replacements.
"""

from __future__ import annotations

import json
import socket
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
import pytest
import redshift_connector

from sparkify_assets.defs.resources import WarehouseResource
from sparkify_assets.settings.problems import SettingProblem
from sparkify_assets.source.local_tree import LocalSourceTree
from sparkify_assets.warehouse.interface import transform_statements
from sparkify_assets.warehouse.load_window import LoadWindow
from sparkify_assets.warehouse.postgres.engine import PostgresWarehouse
from sparkify_assets.warehouse.redshift.connection import (
    RedshiftTarget,
    connect_arguments,
    open_connection,
)
from sparkify_assets.warehouse.redshift.engine import RedshiftWarehouse
from sparkify_assets.warehouse.redshift.errors import (
    RedshiftError,
    RedshiftLoadRejected,
    error_from_driver,
)
from sparkify_assets.warehouse.redshift.statement_rendering import render_copy
from sparkify_assets.warehouse.redshift.upkeep import upkeep_plan
from sparkify_assets.warehouse.settings import WarehouseSettings
from sparkify_assets.warehouse.sql_files import sql_root, statement
from tests.support.log_events import EVENT_TS, log_event
from tests.support.redshift_copy_emulation import (
    BUCKET_URL,
    Database,
    S3UrlTree,
    adhoc,
    emulated,
    open_emulated,
)

DAY = date(2018, 11, 1)
DAY_KEY = "log_data/2018/11/2018-11-01-events.json"
TS = EVENT_TS


def write_day(root: Path, events: list[dict[str, Any]], key: str = DAY_KEY) -> None:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(json.dumps(e).encode() + b"\n" for e in events))


def write_song(root: Path, name: str, **fields: Any) -> None:
    song = {
        "num_songs": 1,
        "artist_id": "ARAAAAAAAAAAAAAAAA",
        "artist_latitude": None,
        "artist_longitude": None,
        "artist_location": "",
        "artist_name": "The Band",
        "song_id": "SOAAAAAAAAAAAAAAAA",
        "title": "Song A",
        "duration": 200.0,
        "year": 2000,
    }
    song.update(fields)
    path = root / "song_data/A/A/A" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(song))


def base_tree(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "log_json_path.json").write_text(
        (sql_root() / "redshift/log_json_path.json").read_text()
    )
    return root


# -- 1. connection settings ---------------------------------------------------------------------


def test_connect_arguments_bound_connecting_only() -> None:
    target = RedshiftTarget.from_url(
        "redshift://etl@sparkify.c1abc2def3gh.us-west-2.redshift.amazonaws.com/sparkify"
    )
    arguments = connect_arguments(target, WarehouseSettings(password="pw"))
    assert arguments["timeout"] == 30  # the connect timeout; open_connection clears it
    assert arguments["tcp_keepalive"] is True
    assert arguments["tcp_keepalive_idle"] == 60
    custom = connect_arguments(target, WarehouseSettings(password="pw", connect_timeout_seconds=5))
    assert custom["timeout"] == 5
    with pytest.raises(ValueError, match="connect timeout"):
        connect_arguments(target, WarehouseSettings(password="pw", connect_timeout_seconds=0))


def test_a_statement_longer_than_the_connect_timeout_completes(database: Database) -> None:
    """With a 1 s connect timeout, a 2.5 s statement completes through the engine's connection;
    the driver's own ``timeout`` left in place (what the engine did before) cuts it off."""
    settings = database.settings(connect_timeout_seconds=1)
    with RedshiftWarehouse.connect(settings) as warehouse:
        (slept,) = warehouse.query(adhoc("SELECT 1 AS slept FROM pg_sleep(2.5)"))
        assert slept == {"slept": 1}
        assert warehouse._connection._usock.gettimeout() is None
    # The control: the same arguments straight into redshift_connector.
    arguments = connect_arguments(RedshiftTarget.from_url(settings.url), settings)
    connection = redshift_connector.connect(**arguments)
    try:
        cursor = connection.cursor()
        with pytest.raises((socket.timeout, TimeoutError, redshift_connector.Error)):
            cursor.execute("SELECT pg_sleep(2.5)")
    finally:
        connection._usock.close()
    # open_connection is what clears it.
    cleared = open_connection(arguments)
    try:
        cleared.cursor().execute("SELECT pg_sleep(1.5)")
    finally:
        cleared.close()


def test_the_server_bounds_each_statement(database: Database) -> None:
    with RedshiftWarehouse.connect(database.settings()) as warehouse:
        (setting,) = warehouse.query(adhoc("SELECT current_setting('statement_timeout') AS t"))
        assert setting["t"] == "3h"  # the default: 10,800 s
    with RedshiftWarehouse.connect(database.settings(statement_timeout_seconds=1)) as warehouse:
        with pytest.raises(RedshiftError) as cancelled:
            warehouse.query(adhoc("SELECT pg_sleep(3)"))
        assert cancelled.value.sqlstate == "57014"
        assert not cancelled.value.retryable  # the same statement would time out again
        assert warehouse.query(adhoc("SELECT 1 AS one")) == [{"one": 1}]
    with pytest.raises(Exception, match="statement timeout"):
        RedshiftWarehouse.connect(database.settings(statement_timeout_seconds=-1))


def test_the_warehouse_resource_passes_the_redshift_settings(database: Database) -> None:
    resource = WarehouseResource(
        url=database.redshift_url,
        password=database.settings().password,
        redshift_staging_url=database.staging_url,
        redshift_statement_timeout_seconds=60,
        redshift_connect_timeout_seconds=2,
    )
    # make_ready=False: the settings, not the Redshift DDL (PostgreSQL behind the proxy lacks ENCODE)
    with resource.open(make_ready=False) as warehouse:
        assert isinstance(warehouse, RedshiftWarehouse)
        (setting,) = warehouse.query(adhoc("SELECT current_setting('statement_timeout') AS t"))
        assert setting["t"] == "1min"
        assert warehouse.manifests is not None
        assert warehouse.manifests.key_for("r", "d").startswith("staging/manifests/")
        (slept,) = warehouse.query(adhoc("SELECT 1 AS slept FROM pg_sleep(2.5)"))
        assert slept == {"slept": 1}


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (redshift_connector.InterfaceError("communication error", ConnectionRefusedError()), True),
        (redshift_connector.InterfaceError("communication error", ConnectionResetError()), True),
        (redshift_connector.OperationalError("connection time out", TimeoutError()), True),
        (redshift_connector.InterfaceError("Server refuses SSL"), False),
        (redshift_connector.InterfaceError("Unable to get IAM credentials"), False),
        (redshift_connector.ProgrammingError({"C": "28P01", "M": "password failed"}), False),
        (redshift_connector.ProgrammingError({"C": "3D000", "M": "no such database"}), False),
        (redshift_connector.ProgrammingError({"C": "57014", "M": "canceled"}), False),
        (redshift_connector.ProgrammingError({"C": "57P01", "M": "admin shutdown"}), True),
        (redshift_connector.ProgrammingError({"C": "40001", "M": "serialization"}), True),
        (redshift_connector.ProgrammingError({"C": "53200", "M": "out of memory"}), True),
        (
            redshift_connector.ProgrammingError(
                {"C": "XX000", "M": "1023 Serializable isolation violation"}
            ),
            True,
        ),
        (redshift_connector.ProgrammingError({"C": "42601", "M": "syntax"}), False),
    ],
)
def test_only_failures_that_can_heal_are_retried(error: Exception, retryable: bool) -> None:
    assert error_from_driver("k", error, ()).retryable is retryable


def test_a_missing_database_is_not_retried(database: Database) -> None:
    wrong = database.redshift_url.replace("/test_", "/missing_")
    with pytest.raises(SettingProblem) as failed:
        RedshiftWarehouse.connect(database.settings(url=wrong))
    assert "does not exist" in failed.value.message  # the server's 3D000
    assert not failed.value.can_heal and not failed.value.allow_retries


# -- 2. Serverless ------------------------------------------------------------------------------

SERVERLESS_HOST = "sparkify-wg.123456789012.eu-west-1.redshift-serverless.amazonaws.com"


def test_a_serverless_endpoint_is_a_serverless_target() -> None:
    target = RedshiftTarget.from_url(f"redshift://etl@{SERVERLESS_HOST}:5439/dev")
    assert (target.serverless, target.workgroup, target.account_id, target.region) == (
        True,
        "sparkify-wg",
        "123456789012",
        "eu-west-1",
    )
    assert target.cluster_identifier == ""
    assert target.load_errors_file == "serverless"
    iam = connect_arguments(target, WarehouseSettings())
    assert iam["iam"] is True and iam["is_serverless"] is True
    assert (iam["serverless_work_group"], iam["serverless_acct_id"]) == (
        "sparkify-wg",
        "123456789012",
    )
    assert iam["region"] == "eu-west-1"
    assert "cluster_identifier" not in iam and "db_user" not in iam
    with_password = connect_arguments(target, WarehouseSettings(password="pw"))
    assert "iam" not in with_password and with_password["user"] == "etl"

    provisioned = RedshiftTarget.from_url(
        "redshift://etl@sparkify.c1abc2def3gh.us-west-2.redshift.amazonaws.com/dev"
    )
    assert not provisioned.serverless and provisioned.load_errors_file == "provisioned"


def test_a_custom_serverless_name_needs_its_workgroup_for_iam() -> None:
    named = RedshiftTarget.from_url("redshift://etl@dw.example.com/dev?workgroup=sparkify-wg")
    assert named.serverless and named.workgroup == "sparkify-wg"
    assert connect_arguments(named, WarehouseSettings())["serverless_work_group"] == "sparkify-wg"
    unnamed = RedshiftTarget.from_url("redshift://etl@dw.example.com/dev?serverless=true")
    with pytest.raises(ValueError, match="workgroup"):
        connect_arguments(unnamed, WarehouseSettings())
    for bad in (
        "redshift://etl@dw.example.com/dev?serverless=true&cluster_identifier=x",
        "redshift://etl@dw.example.com/dev?serverless=maybe",
        f"redshift://etl@{SERVERLESS_HOST}/dev?serverless=false",
        "redshift://etl@dw.example.com/dev?workgroup=Bad_Name",
    ):
        with pytest.raises(ValueError):
            RedshiftTarget.from_url(bad)


@pytest.fixture
def messy_day(tmp_path: Path) -> Path:
    """One day: two good events, one line COPY rejects (bad JSON), one with a text too long."""
    root = base_tree(tmp_path / "messy")
    write_day(
        root,
        [
            log_event(itemInSession=0),
            log_event(itemInSession=1, ts=TS + 1000),
            log_event(itemInSession=2, ts=TS + 2000, artist="x" * 600),
        ],
    )
    path = root / DAY_KEY
    path.write_bytes(path.read_bytes() + b"{not json\n")
    return root


def test_serverless_reads_load_errors_from_sys_load_error_detail(
    database: Database, messy_day: Path, postgres_shaped_ddl: None
) -> None:
    with psycopg.connect(database.admin_url, autocommit=True) as admin:
        admin.execute("DROP TABLE pg_catalog.stl_load_errors")  # Serverless has none
    url = database.redshift_url + "&serverless=true"
    with open_emulated(database, messy_day, url=url) as warehouse:
        assert warehouse.target.serverless
        warehouse.ensure_tables()
        report = warehouse.load_event_days(
            S3UrlTree(messy_day), LoadWindow.single_day(DAY), run_id="r", log=lambda _: None
        )
    assert (report.rows_loaded, report.rows_rejected) == (2, 2)
    quarantined = database.rows(
        "SELECT line_number, reason, raw_text FROM load_quarantine ORDER BY line_number"
    )
    assert [(q[0], q[2]) for q in quarantined] == [(3, None), (4, None)]  # no raw line there
    assert "String length exceeds DDL length" in quarantined[0][1]


# -- 3. rejected lines ----------------------------------------------------------------------------


def test_a_failed_copy_reports_its_own_lines_after_an_earlier_copy_in_the_session(
    database: Database, messy_day: Path, postgres_shaped_ddl: None
) -> None:
    """An earlier COPY of the same session rejected lines and succeeded; the next one fails and
    is rolled back (so pg_last_copy_id() still names the earlier one): the failure must report
    the failed COPY's lines, not the earlier ones, and not none."""
    window = LoadWindow.single_day(DAY)
    other = base_tree(messy_day.parent / "other")
    write_day(other, [log_event(), log_event(itemInSession=1, sessionId="x", ts=TS + 1)])
    other_path = other / DAY_KEY
    other_path.write_bytes(other_path.read_bytes() + b"[]\n[]\n")
    with open_emulated(database, messy_day) as warehouse:
        warehouse.ensure_tables()
        first = warehouse.load_event_days(S3UrlTree(messy_day), window, run_id="a", log=print)
        assert first.rows_rejected == 2
        warehouse.root = other
        warehouse.max_errors = 1
        with pytest.raises(RedshiftLoadRejected) as failed:
            warehouse.load_event_days(S3UrlTree(other), window, run_id="b", log=print)
    rejections = failed.value.rejections
    assert [r.line_number for r in rejections] == [2, 3, 4]
    assert rejections[0].error_reason == "Invalid digit"
    assert database.rows("SELECT COUNT(*) FROM load_quarantine WHERE run_id = 'b'") == [(0,)]


def test_rejected_lines_are_written_in_batches(
    database: Database, tmp_path: Path, postgres_shaped_ddl: None
) -> None:
    root = base_tree(tmp_path / "many")
    write_day(root, [log_event()])
    path = root / DAY_KEY
    path.write_bytes(path.read_bytes() + b"{bad\n" * 1_201)
    statements: list[str] = []
    with RedshiftWarehouse.connect(
        database.settings(), observer=lambda key, _seconds, _error: statements.append(key)
    ) as connected:
        warehouse = emulated(connected, database.admin_url, root)
        warehouse.ensure_tables()
        report = warehouse.load_event_days(
            S3UrlTree(root), LoadWindow.single_day(DAY), run_id="r", log=lambda _: None
        )
    assert report.rows_rejected == 1_201
    assert database.rows("SELECT COUNT(*) FROM load_quarantine") == [(1_201,)]
    assert statements.count("redshift/staging.insert_copy_rejections") == 3  # 500 + 500 + 201


# -- 5. the same answer on both engines ---------------------------------------------------------


@pytest.fixture
def edge_source(tmp_path: Path) -> Path:
    root = base_tree(tmp_path / "edges")
    write_day(
        root,
        [
            log_event(itemInSession=0, userId="7"),
            log_event(itemInSession=1, ts=TS + 1, userId=""),  # anonymous
            log_event(itemInSession=2, ts=TS + 2, userId=" "),  # blank only: quarantined
            log_event(itemInSession=3, ts=TS + 3, userId="7\n"),  # a line break: quarantined
            log_event(itemInSession=4, ts=TS + 4, userId="\u0663"),  # an Arabic-Indic 3
            log_event(itemInSession=5, ts=TS + 5, userId="1234567890"),  # ten digits
            # Plays: the exact title matches, the one with a trailing blank does not.
            log_event(
                itemInSession=6,
                ts=TS + 6,
                page="NextSong",
                song="Song A",
                artist="The Band",
                length=200.0,
            ),
            log_event(
                itemInSession=7,
                ts=TS + 7,
                page="NextSong",
                song="Song A ",
                artist="The Band",
                length=200.0,
            ),
            log_event(
                itemInSession=8,
                ts=TS + 8,
                page="NextSong",
                song="Song A",
                artist="The Band ",
                length=200.0,
            ),
        ],
    )
    # A stray object next to the day's file: a prefix COPY would load it.
    write_day(root, [log_event(itemInSession=9, ts=TS + 9, userId="8")], key=DAY_KEY + ".bak")
    # One song_id in two files, with different content; names order them the other way round.
    write_song(root, "B.json", song_id="SODUP0000000000000", title="Dup long", duration=300.0)
    write_song(root, "C.json", song_id="SODUP0000000000000", title="Dup short", duration=250.0)
    write_song(root, "A.json")  # Song A by The Band, 200 s
    return root


EDGE_QUERIES = {
    "staging": "SELECT item_in_session, user_id, source_file FROM staging_events ORDER BY 1",
    "quarantine": "SELECT reason, source_file, log_date FROM load_quarantine ORDER BY 1, 2",
    "songs": "SELECT song_id, title, duration FROM songs ORDER BY 1",
    "plays": "SELECT s.item_in_session, p.song_id FROM songplays AS p"
    " JOIN staging_events AS s ON s.start_time = p.start_time ORDER BY 1",
}


def edge_answers(url: str) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(url) as connection:
        return {name: connection.execute(q).fetchall() for name, q in EDGE_QUERIES.items()}


def build_edges(warehouse: Any, tree: Any) -> None:
    window = LoadWindow.single_day(DAY)
    warehouse.ensure_tables()
    warehouse.load_song_catalog(tree, run_id="r", log=lambda _: None)
    warehouse.load_event_days(tree, window, run_id="r", log=lambda _: None)
    for table, params in (
        ("songs", {}),
        ("users", window.sql_params()),
        ("songplays", window.sql_params()),
    ):
        warehouse.replace_rows(table, transform_statements(table, warehouse.engine), params)


def test_edge_cases_give_the_same_answer_on_both_engines(
    database: Database, warehouse_url: str, edge_source: Path, postgres_shaped_ddl: None
) -> None:
    with PostgresWarehouse(warehouse_url) as postgres:
        build_edges(postgres, LocalSourceTree(edge_source))
    with open_emulated(database, edge_source) as redshift:
        build_edges(redshift, S3UrlTree(edge_source))
        copies = redshift.copies
    on_postgres = edge_answers(warehouse_url)
    on_redshift = edge_answers(database.admin_url)

    # PostgreSQL's answers are the reference.
    assert on_postgres["staging"] == [
        (0, 7, DAY_KEY),
        (1, None, DAY_KEY),
        (6, 7, DAY_KEY),
        (7, 7, DAY_KEY),
        (8, 7, DAY_KEY),
    ]
    assert [q[0] for q in on_postgres["quarantine"]] == ["userId is not a numeric string"] * 4
    assert on_postgres["songs"] == [
        ("SOAAAAAAAAAAAAAAAA", "Song A", 200.0),
        ("SODUP0000000000000", "Dup short", 250.0),  # by content, not by file name
    ]
    assert on_postgres["plays"] == [(6, "SOAAAAAAAAAAAAAAAA"), (7, None), (8, None)]
    # Redshift's (through the driver, COPY emulated) are the same ...
    for name in EDGE_QUERIES:
        if name == "quarantine":  # PostgreSQL's parser keeps line numbers, COPY does not
            assert [q[0] for q in on_redshift[name]] == [q[0] for q in on_postgres[name]]
            continue
        assert on_redshift[name] == on_postgres[name], name
    # ... and the day's COPY read exactly the day's object, through its manifest.
    assert [BUCKET_URL + "/" + DAY_KEY] in copies
    assert not any(url.endswith(".bak") for urls in copies for url in urls)


def test_without_the_manifest_the_stray_object_would_be_loaded(
    database: Database, edge_source: Path, postgres_shaped_ddl: None
) -> None:
    """The emulated COPY reads a key as a prefix, as Redshift does: the manifest is what keeps
    ``...events.json.bak`` out."""
    sql = statement("redshift/staging.copy_log_file")
    manifest_copy = render_copy(
        sql,
        source="s3://bucket/m.manifest",
        jsonpaths=f"{BUCKET_URL}/log_json_path.json",
        iam_role="arn:aws:iam::123456789012:role/r",
        region="us-west-2",
    )
    prefix_copy = manifest_copy.replace("'s3://bucket/m.manifest'", f"'{BUCKET_URL}/{DAY_KEY}'")
    prefix_copy = prefix_copy.replace("\nMANIFEST", "")
    with open_emulated(database, edge_source) as warehouse, warehouse.transaction() as session:
        session.execute(statement("redshift/staging.create_staged_events"))
        warehouse.run_copy(session, sql.key, prefix_copy)
    assert warehouse.copies == [[f"{BUCKET_URL}/{DAY_KEY}", f"{BUCKET_URL}/{DAY_KEY}.bak"]]


def test_a_manifest_lists_exact_keys_as_mandatory(
    database: Database, edge_source: Path, s3_bucket: Any
) -> None:
    with RedshiftWarehouse.connect(database.settings()) as warehouse:
        assert warehouse.manifests is not None
        url = warehouse.manifests.write("run/1 x", "2018-11-01", [f"{BUCKET_URL}/{DAY_KEY}"])
    assert url == f"s3://{s3_bucket.name}/staging/manifests/run-1-x/2018-11-01.manifest"
    body = s3_bucket.client.get_object(
        Bucket=s3_bucket.name, Key="staging/manifests/run-1-x/2018-11-01.manifest"
    )["Body"].read()
    assert json.loads(body) == {"entries": [{"url": f"{BUCKET_URL}/{DAY_KEY}", "mandatory": True}]}


def test_a_load_without_a_staging_prefix_is_refused_clearly(
    database: Database, edge_source: Path
) -> None:
    warehouse = open_emulated(database, edge_source, staging_url="")
    with warehouse, pytest.raises(dg.Failure) as refused:
        warehouse.load_event_days(
            S3UrlTree(edge_source), LoadWindow.single_day(DAY), run_id="r", log=print
        )
    assert "SPARKIFY_REDSHIFT_STAGING_URL" in str(refused.value.description)
    assert not refused.value.allow_retries


def test_a_missing_mandatory_object_fails_the_copy(
    database: Database, edge_source: Path, postgres_shaped_ddl: None
) -> None:
    with open_emulated(database, edge_source) as warehouse:
        warehouse.ensure_tables()
        tree = S3UrlTree(edge_source)
        listed = tree.log_file(DAY)  # listed, then deleted before the COPY reads it
        (edge_source / DAY_KEY).unlink()
        tree.log_file = lambda day: listed  # type: ignore[method-assign]
        with pytest.raises(RedshiftError, match="Mandatory file"):
            warehouse.load_event_days(tree, LoadWindow.single_day(DAY), run_id="r", log=print)


# -- 6. upkeep ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows_after", "deleted", "inserted", "expected"),
    [
        (1000, 0, 0, []),
        (1000, 0, 50, []),  # 5 % changed
        (1000, 0, 100, ["analyze_table"]),  # 10 %
        (1000, 100, 100, ["analyze_table"]),  # 20 % changed, 9 % of the rows before deleted
        (1000, 250, 250, ["vacuum_delete_only", "analyze_table"]),  # 25 % deleted
        (0, 500, 0, ["vacuum_delete_only", "analyze_table"]),  # everything deleted
        (100, 0, 100, ["analyze_table"]),  # a first load
    ],
)
def test_upkeep_plan(rows_after: int, deleted: int, inserted: int, expected: list[str]) -> None:
    plan = upkeep_plan(rows_after=rows_after, deleted=deleted, inserted=inserted)
    assert plan.statements == expected


def test_upkeep_runs_after_a_large_replacement_only(
    database: Database, tmp_path: Path, postgres_shaped_ddl: None
) -> None:
    root = base_tree(tmp_path / "days")
    days = [date(2018, 11, d) for d in range(1, 11)]
    for day in days:
        key = f"log_data/2018/11/{day:%Y-%m-%d}-events.json"
        start = TS + (day - days[0]).days * 86_400_000
        write_day(root, [log_event(itemInSession=i, ts=start + i) for i in range(10)], key=key)
    statements: list[str] = []
    with RedshiftWarehouse.connect(
        database.settings(), observer=lambda key, _s, _e: statements.append(key)
    ) as connected:
        warehouse = emulated(connected, database.admin_url, root)
        warehouse.ensure_tables()
        tree = S3UrlTree(root)
        everything = LoadWindow(days[0], date(2018, 11, 11))
        warehouse.load_event_days(tree, everything, run_id="a", log=print)  # a first load
        assert warehouse.vacuums == [] and "redshift/upkeep.analyze_table" in statements
        statements.clear()
        warehouse.load_event_days(tree, LoadWindow.single_day(days[3]), run_id="b", log=print)
        assert warehouse.vacuums == []  # 10 % deleted: no VACUUM
        assert "redshift/upkeep.analyze_table" in statements  # 20 % changed
        statements.clear()
        warehouse.load_event_days(tree, LoadWindow(days[0], days[3]), run_id="c", log=print)
        assert warehouse.vacuums == ["VACUUM DELETE ONLY staging_events"]  # 30 % deleted
        statements.clear()
        (root / "log_data/2018/11/2018-11-05-events.json").write_bytes(b"")
        warehouse.load_event_days(tree, LoadWindow.single_day(days[4]), run_id="d", log=print)
        # 10 rows of 100 deleted, none inserted: 10 % changed, analyze; no vacuum.
        assert statements.count("redshift/upkeep.analyze_table") == 1
    (analyzed,) = database.rows(
        "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'staging_events'"
    )
    assert analyzed == (True,)
