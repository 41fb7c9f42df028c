"""Upgrades keep data: a warehouse created by an older release (its DDL recreated here by hand) is
refused with the command that upgrades it, and `sparkify migrate` upgrades it in place with no
row lost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from sparkify_assets.commands.build import build_warehouse
from sparkify_assets.definitions import defs
from sparkify_assets.warehouse.postgres.engine import PostgresWarehouse
from sparkify_assets.warehouse.schema_versions import CURRENT_VERSION, SchemaVersionMismatch
from tests.conftest import resources_for
from tests.reference_warehouse import reference_warehouse
from tests.warehouse_state import assert_matches_reference, warehouse_state

SPARKIFY = str(Path(sys.executable).parent / "sparkify")

# The DDL of songplays and time as release 1b9b488 created them (enforced primary keys, no
# start_time index on time), and no sparkify_schema_version table: schema version 1.
OLD_RELEASE_DDL = (
    "ALTER TABLE songplays RENAME TO songplays_current",
    """CREATE TABLE songplays (
        songplay_id CHAR(32)  NOT NULL PRIMARY KEY,
        start_time  TIMESTAMP NOT NULL,
        user_id     INTEGER,
        level       VARCHAR,
        song_id     VARCHAR,
        artist_id   VARCHAR,
        session_id  INTEGER   NOT NULL,
        location    VARCHAR,
        user_agent  VARCHAR
    )""",
    "INSERT INTO songplays SELECT * FROM songplays_current",
    "DROP TABLE songplays_current",
    "ALTER TABLE time RENAME TO time_current",
    """CREATE TABLE time (
        start_time TIMESTAMP NOT NULL PRIMARY KEY,
        hour       INTEGER   NOT NULL,
        day        INTEGER   NOT NULL,
        week       INTEGER   NOT NULL,
        month      INTEGER   NOT NULL,
        year       INTEGER   NOT NULL,
        weekday    INTEGER   NOT NULL
    )""",
    "INSERT INTO time SELECT * FROM time_current",
    "DROP TABLE time_current",
    "DROP TABLE sparkify_schema_version",
)


def _execute(url: str, *statements: str) -> None:
    with psycopg.connect(url) as connection, connection.transaction():
        for text in statements:
            connection.execute(text)  # type: ignore[arg-type]


def _one_column(url: str, query: str) -> list[object]:
    with psycopg.connect(url) as connection:
        return [row[0] for row in connection.execute(query).fetchall()]  # type: ignore[arg-type]


def _primary_keys(url: str) -> list[object]:
    return _one_column(
        url,
        "SELECT c.relname FROM pg_constraint AS k JOIN pg_class AS c ON c.oid = k.conrelid"
        " WHERE k.contype = 'p' AND c.relname IN ('songplays', 'time') ORDER BY 1",
    )


def _env(url: str, source: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    return {**env, "SPARKIFY_WAREHOUSE_URL": url, "SPARKIFY_SOURCE_URL": str(source)}


def _sparkify(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SPARKIFY, command], env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture
def old_release_warehouse(warehouse_url: str, small_source: Path) -> str:
    """The small source built, then turned into what the older release left: its DDL, all rows."""
    assert build_warehouse(defs, resources=resources_for(warehouse_url, small_source)).succeeded
    _execute(warehouse_url, *OLD_RELEASE_DDL)
    assert _primary_keys(warehouse_url) == ["songplays", "time"]
    return warehouse_url


def test_an_old_schema_warehouse_is_upgraded_with_no_row_lost(
    old_release_warehouse: str, small_source: Path
) -> None:
    url = old_release_warehouse
    before = warehouse_state(url)
    env = _env(url, small_source)

    # Everything refuses the old schema, naming the command that upgrades it, and changes nothing.
    build = _sparkify("build", env)
    assert build.returncode == 2, build.stdout[-2000:] + build.stderr[-2000:]
    assert "schema version 1" in build.stderr and "`sparkify migrate`" in build.stderr
    run = dg.materialize(
        list(defs.assets or []),  # type: ignore[arg-type]
        selection=["staging_songs"],
        resources=resources_for(url, small_source),
        raise_on_error=False,
    )
    assert not run.success
    [failure] = [e for e in run.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "`sparkify migrate`" in str(failure.step_failure_data.error)
    assert warehouse_state(url) == before

    migrated = _sparkify("migrate", env)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    assert f"schema version 1 -> {CURRENT_VERSION}" in migrated.stdout

    assert warehouse_state(url) == before  # no row lost, none changed
    assert _primary_keys(url) == []
    assert set(_one_column(url, "SELECT indexname FROM pg_indexes")) >= {
        "songplays_start_time_idx",
        "time_start_time_idx",
    }
    assert _one_column(url, "SELECT version FROM sparkify_schema_version") == [CURRENT_VERSION]
    again = _sparkify("migrate", env)
    assert again.returncode == 0 and "already at schema version" in again.stdout

    # The upgraded warehouse builds again, to the same tables.
    assert build_warehouse(defs, resources=resources_for(url, small_source)).succeeded
    assert_matches_reference(url, reference_warehouse(small_source))


def test_a_warehouse_newer_than_the_release_is_refused(warehouse_url: str) -> None:
    with PostgresWarehouse(warehouse_url) as warehouse:
        warehouse.ensure_tables()
        assert warehouse.schema_version() == CURRENT_VERSION
    _execute(
        warehouse_url,
        "INSERT INTO sparkify_schema_version VALUES (99, now(), 'from a future release')",
    )
    with PostgresWarehouse(warehouse_url) as warehouse:
        with pytest.raises(SchemaVersionMismatch, match="newer than this release"):
            warehouse.ensure_tables()
        with pytest.raises(SchemaVersionMismatch, match="newer than this release"):
            warehouse.migrate(print)


def test_migrate_creates_a_new_warehouse_at_the_current_version(
    warehouse_url: str, small_source: Path
) -> None:
    done = _sparkify("migrate", _env(warehouse_url, small_source))
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"created at schema version {CURRENT_VERSION}" in done.stdout
    assert _one_column(warehouse_url, "SELECT version FROM sparkify_schema_version") == [
        CURRENT_VERSION
    ]
    assert _primary_keys(warehouse_url) == []


def test_a_run_makes_the_warehouse_ready_once_not_in_every_step(
    warehouse_url: str, small_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warehouse resource creates the schema and tables (and checks the version) when a run
    first opens it; the steps and checks after it do not repeat it."""
    from sparkify_assets.warehouse.interface import Warehouse

    calls: list[str] = []
    ensure_tables = Warehouse.ensure_tables

    def counted(warehouse: Warehouse) -> None:
        calls.append(warehouse.location())
        ensure_tables(warehouse)

    monkeypatch.setattr(Warehouse, "ensure_tables", counted)
    result = dg.materialize(
        list(defs.assets),  # type: ignore[arg-type]
        selection=["staging_songs", "songs", "artists"],
        resources=resources_for(warehouse_url, small_source),
    )
    assert result.success
    assert len(calls) == 1, calls
    with psycopg.connect(warehouse_url) as connection:
        (songs,) = connection.execute("SELECT count(*) FROM songs").fetchone() or (0,)
    assert songs > 0
