"""Errors a person can act on: a wrong setting or an unreachable service ends `sparkify` in one
short message naming the setting and the fix (exit 2), a failed run in exit 1 without claiming
the warehouse was built; inside Dagster runs the same message is a dg.Failure, retried only when
a retry can heal it. Run through the real `sparkify` command as a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
import psycopg
import pytest
import redshift_connector

from sparkify_assets.definitions import defs
from sparkify_assets.defs.resources import SourceResource
from sparkify_assets.defs.source_sensors import log_data_sensor, song_data_sensor
from sparkify_assets.settings.problems import SettingProblem
from sparkify_assets.warehouse.postgres.connect_problems import postgres_connect_problem
from sparkify_assets.warehouse.postgres.engine import _can_heal
from sparkify_assets.warehouse.redshift.errors import error_from_driver
from sparkify_assets.warehouse.schema_versions import CURRENT_VERSION
from sparkify_assets.warehouse.sql_files import statement
from tests.conftest import resources_for
from tests.support.s3_server import (
    S3Bucket,
)

SPARKIFY = str(Path(sys.executable).parent / "sparkify")
MAX_LINES = 5


def _sparkify(
    args: list[str], tmp_path: Path, **settings: str
) -> tuple[int, list[str], subprocess.CompletedProcess[str]]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SPARKIFY_") and key != "DAGSTER_HOME"
    }
    env.update({"SPARKIFY_HOME": str(tmp_path / "home"), **settings})
    done = subprocess.run(
        [SPARKIFY, *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    return done.returncode, lines, done


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _other_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def test_a_missing_source_directory_is_one_short_message(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-source"
    status, lines, _ = _sparkify(["build"], tmp_path, SPARKIFY_SOURCE_URL=str(missing))

    assert status == 2
    assert len(lines) <= MAX_LINES, lines
    assert lines == [
        f"sparkify: SPARKIFY_SOURCE_URL: source directory {missing} does not exist. Set it to a"
        " directory holding song_data/ and log_data/ or to s3://bucket/prefix, or unset it to use"
        " the generated sample data."
    ]


def test_an_unreachable_warehouse_is_one_short_message_and_no_summary(
    small_source: Path, tmp_path: Path
) -> None:
    port = _closed_port()
    status, lines, _ = _sparkify(
        ["build"],
        tmp_path,
        SPARKIFY_SOURCE_URL=str(small_source),
        SPARKIFY_WAREHOUSE_URL=f"postgresql://postgres@127.0.0.1:{port}/sparkify",
    )

    assert status == 2
    assert len(lines) <= MAX_LINES, lines
    [line] = lines
    assert line.startswith(
        f"sparkify: SPARKIFY_WAREHOUSE_URL: cannot reach the warehouse at 127.0.0.1:{port}/sparkify"
    )
    assert "Connection refused" in line
    assert line.endswith(
        "Start the server, or fix SPARKIFY_WAREHOUSE_URL (unset: the embedded PostgreSQL)."
    )


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    status, lines, _ = _sparkify(
        ["--debug", "build"], tmp_path, SPARKIFY_SOURCE_URL=str(tmp_path / "none")
    )

    assert status == 2
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[-1].startswith("sparkify: SPARKIFY_SOURCE_URL: source directory")


def test_a_missing_database_and_an_unknown_scheme_name_the_setting(
    postgres_admin_url: str, small_source: Path, tmp_path: Path
) -> None:
    status, lines, _ = _sparkify(
        ["build"],
        tmp_path,
        SPARKIFY_SOURCE_URL=str(small_source),
        SPARKIFY_WAREHOUSE_URL=_other_database(postgres_admin_url, "no_such_database"),
    )
    assert status == 2
    [line] = lines
    assert "SPARKIFY_WAREHOUSE_URL: database 'no_such_database' does not exist on" in line
    assert "Create it (CREATE DATABASE) or name an existing one in SPARKIFY_WAREHOUSE_URL" in line

    status, lines, _ = _sparkify(["build"], tmp_path, SPARKIFY_WAREHOUSE_URL="mysql://db/x")
    assert (status, lines) == (
        2,
        [
            "sparkify: SPARKIFY_WAREHOUSE_URL must be postgresql://..., redshift://... or empty"
            " (the embedded PostgreSQL); got a URL with scheme 'mysql'."
        ],
    )


def test_a_bad_schema_name_is_one_short_message(small_source: Path, tmp_path: Path) -> None:
    status, lines, _ = _sparkify(
        ["build"],
        tmp_path,
        SPARKIFY_SOURCE_URL=str(small_source),
        SPARKIFY_WAREHOUSE_SCHEMA="analytics; DROP TABLE songs",
    )
    assert status == 2
    [line] = lines
    assert line.startswith("sparkify: ") and "SPARKIFY_WAREHOUSE_SCHEMA" in line


def test_a_missing_bucket_is_one_short_message(
    s3_bucket: S3Bucket,
    tmp_path: Path,
) -> None:
    missing = f"{s3_bucket.name}-absent"
    status, lines, _ = _sparkify(["build"], tmp_path, SPARKIFY_SOURCE_URL=f"s3://{missing}/raw")

    assert status == 2
    assert len(lines) <= MAX_LINES, lines
    [line] = lines
    assert line.startswith(f"sparkify: SPARKIFY_SOURCE_URL: S3 bucket '{missing}' does not exist")
    assert line.endswith("Fix the bucket name in SPARKIFY_SOURCE_URL.")


def test_a_failed_run_is_reported_as_failed_never_as_built(
    warehouse_url: str, small_source: Path, tmp_path: Path
) -> None:
    # A songplays table of another shape, in a warehouse that records this release's schema
    # version (so the version check lets it through): its transform fails with an error no retry
    # can fix.
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        connection.execute("CREATE TABLE songplays (unrelated INTEGER)")
        connection.execute(statement("schema_version.create_table").text)
        connection.execute(
            "INSERT INTO sparkify_schema_version VALUES (%s, now(), 'test')", (CURRENT_VERSION,)
        )

    status, _, done = _sparkify(
        ["build"],
        tmp_path,
        SPARKIFY_SOURCE_URL=str(small_source),
        SPARKIFY_WAREHOUSE_URL=warehouse_url,
    )

    assert status == 1, done.stdout[-3000:] + done.stderr[-3000:]
    summary = done.stdout[done.stdout.index("Sparkify warehouse") :]
    assert summary.startswith("Sparkify warehouse build FAILED after")
    assert "built" not in summary
    assert "  staging_songs: PostgreSQL error [42703]: column" in summary
    assert "Traceback" not in done.stdout + done.stderr
    assert "STEP_UP_FOR_RETRY" not in done.stdout + done.stderr  # a wrong table cannot heal


def _step_attempts(result: dg.ExecuteInProcessResult) -> list[str]:
    return [
        event.event_type_value
        for event in result.all_events
        if event.event_type
        in (dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.STEP_UP_FOR_RETRY)
    ]


def test_inside_a_run_a_missing_database_fails_at_once_with_the_message(
    postgres_admin_url: str, small_source: Path
) -> None:
    url = _other_database(postgres_admin_url, "no_such_database")
    result = dg.materialize(
        list(defs.assets or []),  # type: ignore[arg-type]
        selection=["staging_songs"],
        resources=resources_for(url, small_source),
        raise_on_error=False,
    )

    assert not result.success
    assert _step_attempts(result) == ["STEP_FAILURE"]  # no retry: a retry cannot create it
    [failure] = result.get_step_failure_events()
    description = failure.step_failure_data.user_failure_data.description  # type: ignore[union-attr]
    assert description.startswith("SPARKIFY_WAREHOUSE_URL: database 'no_such_database'")


def test_only_what_can_heal_is_retried(postgres_admin_url: str) -> None:
    """A refused connection (a server restarting) may heal; a missing database cannot."""
    problems = []
    for url in (
        f"postgresql://postgres@127.0.0.1:{_closed_port()}/sparkify",
        _other_database(postgres_admin_url, "no_such_database"),
    ):
        with pytest.raises(psycopg.OperationalError) as error:
            psycopg.connect(url).close()
        problems.append(postgres_connect_problem(error.value, "here"))

    refused, missing = problems
    assert isinstance(refused, SettingProblem) and refused.can_heal
    assert refused.allow_retries
    assert not missing.can_heal and not missing.allow_retries


@pytest.mark.parametrize(
    ("sqlstate", "can_heal"),
    [
        ("08006", True),  # connection failure
        ("40001", True),  # serialization failure
        ("40P01", True),  # deadlock
        ("53300", True),  # too many connections
        ("57P01", True),  # admin shutdown
        ("57014", False),  # statement cancelled (statement_timeout): it would time out again
        ("08P01", False),  # protocol violation
        ("42601", False),  # syntax error
        ("23505", False),  # unique violation
    ],
)
def test_both_engines_retry_the_same_sqlstates(sqlstate: str, can_heal: bool) -> None:
    postgres = psycopg.errors.lookup(sqlstate)("m")
    redshift = redshift_connector.ProgrammingError({"C": sqlstate, "M": "m"})

    assert _can_heal(postgres) is can_heal
    assert error_from_driver("k", redshift, ()).retryable is can_heal


def test_a_sensor_skips_with_the_message_instead_of_failing(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-source"
    for sensor in (log_data_sensor, song_data_sensor):
        with dg.DagsterInstance.ephemeral() as instance:
            context = dg.build_sensor_context(
                instance=instance,
                definitions=defs,
                resources={"source": SourceResource(url=str(missing))},
            )
            data = sensor.evaluate_tick(context)

        assert data.run_requests == []
        assert data.cursor is None  # the cursor stays as it was
        assert data.skip_message == (
            f"SPARKIFY_SOURCE_URL: source directory {missing} does not exist. Set it to a"
            " directory holding song_data/ and log_data/ or to s3://bucket/prefix, or unset it to"
            " use the generated sample data."
        )
