"""The commands a user types: `sparkify dagster asset materialize` (a partition range in one run)
and `sparkify build`, run as real subprocesses against a test database, on the project's instance
(its storage in another test database)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from sparkify_assets.definitions import defs
from sparkify_assets.defs.asset_groups import TABLE_ASSETS
from tests.conftest import SMALL_SPEC
from tests.reference_warehouse import reference_warehouse
from tests.warehouse_state import assert_matches_reference

FIRST_DAY = SMALL_SPEC.start
LAST_DAY = SMALL_SPEC.start + timedelta(days=SMALL_SPEC.days - 1)


def _env(
    warehouse_url: str, source: Path, sparkify_home: Path, dagster_storage_url: str
) -> dict[str, str]:
    env = {
        **os.environ,
        "SPARKIFY_WAREHOUSE_URL": warehouse_url,
        "SPARKIFY_SOURCE_URL": str(source),
        "SPARKIFY_HOME": str(sparkify_home),
        "SPARKIFY_DAGSTER_STORAGE_URL": dagster_storage_url,
    }
    env.pop("DAGSTER_HOME", None)  # the project's instance is used whatever this says
    return env


def _project_instance(sparkify_home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(sparkify_home / "dagster_home"))


SPARKIFY = str(Path(sys.executable).parent / "sparkify")


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_partition_range_materializes_in_one_run(
    warehouse_url: str, small_source: Path, tmp_path: Path, dagster_storage_url: str
) -> None:
    env = _env(warehouse_url, small_source, tmp_path / "home", dagster_storage_url)
    catalog = _run(
        [
            SPARKIFY,
            "dagster",
            "asset",
            "materialize",
            "-m",
            "sparkify_assets.definitions",
            "--select",
            "staging_songs,songs,artists",
        ],
        env,
    )
    assert catalog.returncode == 0, catalog.stderr[-3000:]
    events = _run(
        [
            SPARKIFY,
            "dagster",
            "asset",
            "materialize",
            "-m",
            "sparkify_assets.definitions",
            "--select",
            "staging_events,songplays,users,time",
            "--partition-range",
            f"{FIRST_DAY}...{LAST_DAY}",
        ],
        env,
    )
    assert events.returncode == 0, events.stderr[-3000:]

    assert_matches_reference(warehouse_url, reference_warehouse(small_source))
    with _project_instance(tmp_path / "home") as instance:
        runs = instance.get_runs()
        materialized = instance.get_materialized_partitions(dg.AssetKey("songplays"))
        planned = instance.get_records_for_run(
            runs[0].run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
        ).records
        check = next(
            k
            for k in defs.resolve_asset_graph().asset_check_keys
            if k.asset_key.path == ["songplays"]
        )
        executions = instance.event_log_storage.get_asset_check_execution_history(check, limit=10)
    assert len(runs) == 2  # the catalog run and ONE run for all the days
    # One row per check and run (check_planning_event_log), updated by the check's result: not
    # one "planned" row per day left behind.
    assert [e.status.value for e in executions] == ["SUCCEEDED"]
    assert len(materialized) == SMALL_SPEC.days
    # The instance class's settings reached the CLI process: one planned event per asset, not
    # one per day and asset (the range run is the newest, runs[0]).
    assert len(planned) == 4


def test_sparkify_build_prints_the_summary(
    warehouse_url: str, small_source: Path, tmp_path: Path, dagster_storage_url: str
) -> None:
    env = _env(warehouse_url, small_source, tmp_path / "home", dagster_storage_url)
    build = _run([SPARKIFY, "build"], env)

    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    assert "Warning" not in build.stdout + build.stderr  # quiet: no warning a user cannot act on
    assert "DEBUG" not in build.stderr  # per-day event lines only with --log-level debug
    reference = reference_warehouse(small_source)
    lines = {
        line.split()[0]: line.split()[-1] for line in build.stdout.splitlines() if line.strip()
    }
    assert lines["songplays"] == f"{len(reference.songplays):,}"
    assert lines["users"] == f"{len(reference.users):,}"
    assert lines["staging_events"] == f"{reference.staging_events:,}"
    table_checks = len(
        [
            k
            for k in defs.resolve_asset_graph().asset_check_keys
            if k.asset_key.to_user_string() in TABLE_ASSETS
        ]
    )
    assert f"asset checks: {table_checks} passed, 0 warned, 0 failed" in build.stdout
    for table in ("staging_events", "songplays", "time"):  # freshness: lag behind the source
        assert (
            f"freshness: {table}: newest log day {LAST_DAY}, 0 day(s) behind the source"
            f" ({LAST_DAY})" in build.stdout
        )
    assert_matches_reference(warehouse_url, reference)
    with _project_instance(tmp_path / "home") as instance:  # the build's runs are in the UI's
        assert len(instance.get_runs()) == 3  # catalog, the six days, the analytics
        # Every asset (the backup only when SPARKIFY_BACKUP_URL is set: it is not automated then)
        for key in defs.resolve_asset_graph().materializable_asset_keys:
            if key != dg.AssetKey("warehouse_backup"):
                assert instance.get_latest_materialization_event(key) is not None, key


def test_the_instance_refuses_a_password_in_its_url(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SPARKIFY_HOME": str(tmp_path / "home"),
        "SPARKIFY_DAGSTER_STORAGE_URL": "postgresql://dagster:hunter2@db.example:5432/dagster",
    }
    done = _run([SPARKIFY, "instance"], env)
    assert done.returncode == 2
    assert "SPARKIFY_DAGSTER_STORAGE_PASSWORD" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout
    assert not (tmp_path / "home" / "dagster_home" / "dagster.yaml").exists()


def test_sparkify_generate_writes_the_source_layout(tmp_path: Path) -> None:
    out = tmp_path / "source"
    done = _run(
        [
            str(Path(sys.executable).parent / "sparkify"),
            "generate",
            "--out",
            str(out),
            "--days",
            "2",
            "--events-per-day",
            "40",
            "--songs",
            "12",
        ],
        dict(os.environ),
    )

    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (out / "log_data" / "2018" / "11").iterdir()) == [
        "2018-11-01-events.json",
        "2018-11-02-events.json",
    ]
    assert len(list((out / "song_data").rglob("*.json"))) == 12


def test_help_of_the_dagster_commands_starts_nothing(tmp_path: Path) -> None:
    """`sparkify dev --help` (and the daemon's, dagster's) answer with the program's own help,
    without preparing an instance or starting the embedded server."""
    home = tmp_path / "home"
    env = {**os.environ, "SPARKIFY_HOME": str(home)}
    for command, expected in (
        (["dev", "--help"], "dagster dev"),
        (["daemon", "--help"], "dagster-daemon run"),
        (["dagster", "asset", "materialize", "--help"], "--partition-range"),
    ):
        done = _run([SPARKIFY, *command], env)
        assert done.returncode == 0, done.stderr[-2000:]
        assert expected in done.stdout, done.stdout[:500]
    assert not (home / "dagster_home").exists()
    assert not (home / "postgres-password").exists()


def test_dev_with_a_host_still_runs_on_the_project_instance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`-h` is `dagster dev`'s --host, not help: `sparkify dev -h 0.0.0.0` gets the instance."""
    from sparkify_assets import cli

    executed: list[list[str]] = []
    monkeypatch.setattr(cli, "prepare_instance", lambda: tmp_path)
    monkeypatch.setattr(cli, "instance_environment", lambda home: {"DAGSTER_HOME": str(home)})
    monkeypatch.setattr(os, "execvpe", lambda program, argv, env: executed.append(argv))
    monkeypatch.setattr(os, "execvp", lambda program, argv: executed.append(["help", *argv]))
    cli.dev(["-h", "0.0.0.0"])
    [argv] = executed
    assert argv[0] != "help" and argv[-2:] == ["-w", str(tmp_path / "workspace.yaml")]
    assert argv[1:4] == ["dev", "-h", "0.0.0.0"]
