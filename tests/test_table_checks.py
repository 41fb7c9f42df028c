"""Every check's SQL fails on the corruption it exists to catch, and passes on a clean warehouse.

One warehouse is built for the module; each case corrupts it inside a transaction, evaluates the
table's checks in that same transaction, and rolls back.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from sparkify_assets.commands.build import build_warehouse
from sparkify_assets.definitions import defs
from sparkify_assets.defs.freshness_checks import CHECK_NAME as FRESHNESS_CHECK
from sparkify_assets.defs.resources import WarehouseResource
from sparkify_assets.records.events import EVENT_COLUMNS
from sparkify_assets.warehouse.check_results import run_table_checks
from sparkify_assets.warehouse.load_window import LoadWindow
from sparkify_assets.warehouse.postgres.engine import PostgresSession
from sparkify_assets.warehouse.sql_files import SqlStatement, load_file
from tests.conftest import SMALL_SPEC, new_database, resources_for

WINDOW = LoadWindow(
    SMALL_SPEC.start, date.fromordinal(SMALL_SPEC.start.toordinal() + SMALL_SPEC.days)
)
A_PLAYED_SONG = "(SELECT MIN(song_id) FROM songplays)"
STAGED_COLUMNS = ", ".join(EVENT_COLUMNS)  # every column but the generated start_time

# (table, check, statements that corrupt the table so that exactly this check must fail)
CORRUPTIONS = [
    (
        "staging_events",
        "row_count",
        ["DELETE FROM staging_events WHERE ctid IN (SELECT MIN(ctid) FROM staging_events)"],
    ),
    (
        "staging_events",
        "log_date_matches_ts",
        [
            "UPDATE staging_events SET log_date = log_date + 1 WHERE ctid IN (SELECT MIN(ctid) FROM staging_events WHERE log_date = %(first_day)s)"
        ],
    ),
    (
        "staging_events",
        "unique_events",
        [
            f"INSERT INTO staging_events ({STAGED_COLUMNS}) SELECT {STAGED_COLUMNS} FROM staging_events LIMIT 1"
        ],
    ),
    (
        "staging_events",
        "quarantine_share",
        [
            "INSERT INTO load_quarantine VALUES ('event', %(first_day)s, 'f', 1, 'bad', 'x', now(), 'r')"
        ],
    ),
    (
        "staging_songs",
        "row_count",
        ["DELETE FROM staging_songs WHERE ctid IN (SELECT MIN(ctid) FROM staging_songs)"],
    ),
    (
        "staging_songs",
        "unique_song_ids",
        ["INSERT INTO staging_songs SELECT * FROM staging_songs LIMIT 1"],
    ),
    (
        "staging_songs",
        "quarantine_share",
        ["INSERT INTO load_quarantine VALUES ('song', NULL, 'f', NULL, 'bad', 'x', now(), 'r')"],
    ),
    (
        "songplays",
        "matches_staging",
        ["DELETE FROM songplays WHERE songplay_id = (SELECT MIN(songplay_id) FROM songplays)"],
    ),
    (
        "songplays",
        "unique_ids",
        [
            "INSERT INTO songplays SELECT * FROM songplays LIMIT 1",
        ],
    ),
    (
        "songplays",
        "keys_not_null",
        [
            "UPDATE songplays SET level = NULL WHERE songplay_id = (SELECT MIN(songplay_id) FROM songplays)"
        ],
    ),
    (
        "songplays",
        "users_exist",
        ["DELETE FROM users WHERE user_id = (SELECT MIN(user_id) FROM songplays)"],
    ),
    ("songplays", "catalog_rows_exist", [f"DELETE FROM songs WHERE song_id = {A_PLAYED_SONG}"]),
    (  # the other branch of the check: a played artist missing
        "songplays",
        "catalog_rows_exist",
        ["DELETE FROM artists WHERE artist_id = (SELECT MIN(artist_id) FROM songplays)"],
    ),
    ("songplays", "catalog_match_share", ["UPDATE songplays SET song_id = NULL, artist_id = NULL"]),
    (
        "users",
        "unique_ids",
        [
            "ALTER TABLE users DROP CONSTRAINT users_pkey",
            "INSERT INTO users SELECT * FROM users LIMIT 1",
        ],
    ),
    (
        "users",
        "covers_window",
        ["DELETE FROM users WHERE user_id = (SELECT MIN(user_id) FROM users)"],
    ),
    (
        "users",
        "valid_level",
        ["UPDATE users SET level = 'gold' WHERE user_id = (SELECT MIN(user_id) FROM users)"],
    ),
    ("users", "row_count", ["DELETE FROM users"]),
    (
        "time",
        "unique_start_times",
        [
            "INSERT INTO time SELECT * FROM time LIMIT 1",
        ],
    ),
    (
        "time",
        "matches_songplays",
        ["DELETE FROM time WHERE start_time = (SELECT MIN(start_time) FROM time)"],
    ),
    (
        "time",
        "matches_songplays",
        [
            "INSERT INTO time VALUES (%(window_start)s + INTERVAL '1 millisecond', 0, 1, 44, 11, 2018, 4)"
        ],
    ),
    (
        "songs",
        "unique_ids",
        [
            "ALTER TABLE songs DROP CONSTRAINT songs_pkey",
            "INSERT INTO songs SELECT * FROM songs LIMIT 1",
        ],
    ),
    (
        "songs",
        "matches_catalog",
        ["DELETE FROM songs WHERE song_id = (SELECT MAX(song_id) FROM songs)"],
    ),
    (
        "songs",
        "keys_not_null",
        ["UPDATE songs SET title = NULL WHERE song_id = (SELECT MIN(song_id) FROM songs)"],
    ),
    (
        "artists",
        "unique_ids",
        [
            "ALTER TABLE artists DROP CONSTRAINT artists_pkey",
            "INSERT INTO artists SELECT * FROM artists LIMIT 1",
        ],
    ),
    (
        "artists",
        "matches_catalog",
        ["DELETE FROM artists WHERE artist_id = (SELECT MAX(artist_id) FROM artists)"],
    ),
    (
        "artists",
        "keys_not_null",
        ["UPDATE artists SET name = NULL WHERE artist_id = (SELECT MIN(artist_id) FROM artists)"],
    ),
]


class _Rollback(Exception):
    pass


@pytest.fixture(scope="module")
def built_warehouse_url(postgres_admin_url: str, small_source: Path) -> Iterator[str]:
    with new_database(postgres_admin_url) as url:
        assert build_warehouse(defs, resources=resources_for(url, small_source)).succeeded
        yield url


def _check_outcomes(url: str, table: str, corruption: list[str]) -> dict[str, bool]:
    params = {**WINDOW.sql_params(), "loaded_rows": None, "max_quarantine_share": 0.0}
    outcomes: dict[str, bool] = {}
    with psycopg.connect(url) as connection:
        session = PostgresSession(connection)
        if params["loaded_rows"] is None:
            counted = f"SELECT COUNT(*) FROM {table}"  # the loader's count, before corruption
            params["loaded_rows"] = connection.execute(counted).fetchone()[0]  # type: ignore[index]
        for statement in corruption:
            connection.execute(statement, WINDOW.sql_params())  # type: ignore[arg-type]
        for result in run_table_checks(session, table, params):
            outcomes[str(result.check_name)] = result.passed
        connection.rollback()
    return outcomes


def test_every_check_has_a_corruption_case() -> None:
    declared = {
        (k.asset_key.to_user_string(), k.name)
        for k in defs.resolve_asset_graph().asset_check_keys
        if k.asset_key.to_user_string() != "warehouse_backup"  # a check of files, not a table
        # the freshness checks compare with the source, not the table with itself: warned, failed
        # and passed in tests/test_freshness_and_alerts.py
        if k.name != FRESHNESS_CHECK
    }
    assert {(table, check) for table, check, _ in CORRUPTIONS} == declared


@pytest.mark.parametrize(
    ("table", "check", "corruption"),
    CORRUPTIONS,
    ids=[f"{t}.{c}.{n}" for n, (t, c, _) in enumerate(CORRUPTIONS)],
)
def test_check_fails_on_its_corruption(
    built_warehouse_url: str, table: str, check: str, corruption: list[str]
) -> None:
    clean = _check_outcomes(built_warehouse_url, table, [])
    corrupted = _check_outcomes(built_warehouse_url, table, corruption)

    assert clean[check], f"{table}.{check} fails on the clean warehouse"
    assert not corrupted[check], f"{table}.{check} passes on a corrupted {table}"


def test_both_forms_of_the_users_statement_give_the_same_users(built_warehouse_url: str) -> None:
    """sql/postgres/transform/users.sql (correlated MAX, PostgreSQL's) and the shared
    sql/transform/users.sql (join with an aggregate, Redshift's) rebuild the same users for every
    day of the window and for the whole window."""
    windows = [LoadWindow.single_day(day) for day in WINDOW.days()] + [WINDOW]
    results: dict[str, list[list[tuple[object, ...]]]] = {}
    for form in ("postgres/transform/users", "transform/users"):
        results[form] = []
        with psycopg.connect(built_warehouse_url) as connection:
            session = PostgresSession(connection)
            for window in windows:
                for sql in load_file(form).values():
                    session.execute(sql, window.sql_params())
                rows = connection.execute("SELECT * FROM users ORDER BY user_id").fetchall()
                results[form].append(rows)
            connection.rollback()
    assert results["postgres/transform/users"] == results["transform/users"]
    assert all(results["transform/users"])


class _TimedSession:
    """A session that records which checks it ran and takes a while for each (as a check on a
    large table does), so that two connections really overlap."""

    def __init__(self, session: PostgresSession) -> None:
        self.session = session
        self.ran: list[str] = []

    def query(
        self, sql: SqlStatement, params: Mapping[str, object] | None = None
    ) -> list[dict[str, object]]:
        time.sleep(0.2)
        self.ran.append(sql.name)
        return self.session.query(sql, params)


@pytest.mark.parametrize("table", ["staging_events", "songplays", "time"])
def test_checks_on_a_side_connection_give_the_same_results_in_the_same_order(
    built_warehouse_url: str, table: str
) -> None:
    """A step runs its checks two at a time (the main connection and a side one): every check
    runs once, on one of them, and the results are the ones of one connection, in file order."""
    params = {**WINDOW.sql_params(), "loaded_rows": 0, "max_quarantine_share": 0.0}
    with psycopg.connect(built_warehouse_url) as one, psycopg.connect(built_warehouse_url) as two:
        counted = one.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
        assert counted is not None
        params["loaded_rows"] = counted[0]
        alone = run_table_checks(PostgresSession(one), table, params)
        main, side = _TimedSession(PostgresSession(one)), _TimedSession(PostgresSession(two))
        shared = run_table_checks(main, table, params, side=side)

    def outcome(results: list[dg.AssetCheckResult]) -> list[tuple[object, ...]]:
        return [(r.check_name, r.passed, r.severity, dict(r.metadata)) for r in results]

    names = list(load_file(f"checks/{table}"))
    assert [r.check_name for r in shared] == names
    assert outcome(shared) == outcome(alone)
    assert sorted(main.ran + side.ran) == sorted(names)  # each check once
    assert main.ran and side.ran  # both connections worked


def test_a_side_connection_that_cannot_be_opened_leaves_the_checks_to_the_step_connection() -> None:
    """The step's data is written when its checks start: a server refusing one more connection
    (at its limit) must not fail the step; it runs its checks one at a time, saying so once."""
    said: list[str] = []
    unreachable = WarehouseResource(url="postgresql://sparkify@127.0.0.1:1/warehouse")
    with unreachable.open_side(said.append) as side:
        assert side is None
    assert len(said) == 1 and said[0].startswith("no side connection (")
    assert said[0].endswith("checks one at a time")


class _FailingSession(_TimedSession):
    def query(
        self, sql: SqlStatement, params: Mapping[str, object] | None = None
    ) -> list[dict[str, object]]:
        self.ran.append(sql.name)
        raise RuntimeError(f"{sql.name} broke")


def test_a_check_that_errors_stops_the_checks_not_yet_started_and_is_raised(
    built_warehouse_url: str,
) -> None:
    params = {**WINDOW.sql_params(), "loaded_rows": 0, "max_quarantine_share": 0.0}
    with psycopg.connect(built_warehouse_url) as one:
        main = _FailingSession(PostgresSession(one))
        side = _TimedSession(PostgresSession(one))
        with pytest.raises(RuntimeError, match=r" broke$") as raised:
            run_table_checks(main, "songplays", params, side=side)
    assert len(main.ran) == 1  # it stopped taking checks after its error
    assert str(raised.value) == f"{main.ran[0]} broke"
    assert len(side.ran) <= 1  # the side one after the check it was running
