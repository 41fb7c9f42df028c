"""The commands a user types: `dagster asset materialize` (a partition range in one run) and
`sparkify build`, run as real subprocesses against a test database."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import dagster as dg

from sparkify_assets.definitions import defs
from sparkify_assets.warehouse_build import STAR_TABLES
from tests.conftest import SMALL_SPEC
from tests.reference_warehouse import reference_warehouse
from tests.warehouse_state import assert_matches_reference

FIRST_DAY = SMALL_SPEC.start
LAST_DAY = SMALL_SPEC.start + timedelta(days=SMALL_SPEC.days - 1)


def _env(warehouse_url: str, source: Path, dagster_home: Path) -> dict[str, str]:
    dagster_home.mkdir(exist_ok=True)
    return {
        **os.environ,
        "SPARKIFY_WAREHOUSE_URL": warehouse_url,
        "SPARKIFY_SOURCE_URL": str(source),
        "DAGSTER_HOME": str(dagster_home),
    }


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_partition_range_materializes_in_one_run(
    warehouse_url: str, small_source: Path, tmp_path: Path
) -> None:
    env = _env(warehouse_url, small_source, tmp_path / "dagster_home")
    dagster = str(Path(sys.executable).parent / "dagster")
    catalog = _run(
        [
            dagster,
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
            dagster,
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
    os.environ["DAGSTER_HOME"], saved = env["DAGSTER_HOME"], os.environ.get("DAGSTER_HOME")
    try:
        with dg.DagsterInstance.get() as instance:
            runs = instance.get_runs()
            materialized = instance.get_materialized_partitions(dg.AssetKey("songplays"))
    finally:
        if saved is None:
            del os.environ["DAGSTER_HOME"]
        else:
            os.environ["DAGSTER_HOME"] = saved
    assert len(runs) == 2  # the catalog run and ONE run for all the days
    assert len(materialized) == SMALL_SPEC.days


def test_sparkify_build_prints_the_summary(
    warehouse_url: str, small_source: Path, tmp_path: Path
) -> None:
    env = _env(warehouse_url, small_source, tmp_path / "dagster_home")
    build = _run([str(Path(sys.executable).parent / "sparkify"), "build"], env)

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
            if k.asset_key.to_user_string() in STAR_TABLES
        ]
    )
    assert f"asset checks: {table_checks} passed, 0 warned, 0 failed" in build.stdout
    for table in ("staging_events", "songplays", "time"):  # freshness: lag behind the source
        assert (
            f"freshness: {table}: newest log day {LAST_DAY}, 0 day(s) behind the source"
            f" ({LAST_DAY})" in build.stdout
        )
    assert_matches_reference(warehouse_url, reference)


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
