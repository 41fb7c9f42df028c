"""A real warehouse without a source is refused before anything runs (resource set-up, sensors,
``sparkify build``), the code location still loads and says which mode it is in, and
SPARKIFY_WAREHOUSE_SCHEMA keeps two deployments apart in one database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from sparkify_assets.definitions import defs
from sparkify_assets.defs.resources import SourceResource, WarehouseResource
from sparkify_assets.defs.source_sensors import log_data_sensor, song_data_sensor
from sparkify_assets.sample_data.generator import write_sample_source
from sparkify_assets.sample_data.spec import SampleSpec
from sparkify_assets.settings import deployment_mode as modes
from tests.conftest import SMALL_SPEC, resources_for

REFUSAL = "SPARKIFY_SOURCE_URL is not set"
SPARKIFY = str(Path(sys.executable).parent / "sparkify")


def _tables(warehouse_url: str, schema: str) -> set[str]:
    with psycopg.connect(warehouse_url) as connection:
        rows = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchall()
    return {str(r[0]) for r in rows}


def _env_without_sparkify(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPARKIFY_")}
    return {**env, **settings}


@pytest.mark.parametrize(
    ("source", "warehouse", "mode"),
    [
        ("", "", modes.LAPTOP),
        ("s3://bucket/raw", "", modes.EMBEDDED_WITH_SOURCE),
        ("s3://bucket/raw", "redshift://admin@cluster:5439/dev", modes.REAL),
        ("/data/sparkify", "postgresql://etl@db/sparkify", modes.REAL),
        ("", "redshift://admin@cluster:5439/dev", modes.REFUSED),
        ("", "postgresql://etl@db/sparkify", modes.REFUSED),
        ("  ", "postgresql://etl@db/sparkify", modes.REFUSED),
    ],
)
def test_which_combinations_are_refused(source: str, warehouse: str, mode: str) -> None:
    assert modes.deployment_mode(source, warehouse) == mode
    problem = modes.configuration_problem(source, warehouse)
    assert (problem is not None) == (mode == modes.REFUSED)
    if problem:
        assert REFUSAL in problem and "password" not in problem


def test_the_code_location_loads_and_shows_the_refused_mode() -> None:
    """Importing the definitions never fails on this configuration: the resource view says why it
    is refused (the deployment_mode field), and `dagster definitions validate` passes."""
    env = _env_without_sparkify(SPARKIFY_WAREHOUSE_URL="redshift://admin@cluster.example:5439/dev")
    script = (
        "import json; from sparkify_assets.definitions import defs;"
        "s = defs.resources['source'];"
        "print(json.dumps({'mode': s.deployment_mode}))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert json.loads(shown.stdout.splitlines()[-1])["mode"] == modes.REFUSED
    validate = subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            "definitions",
            "validate",
            "-m",
            "sparkify_assets.definitions",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert validate.returncode == 0, validate.stderr[-2000:]


def test_a_run_is_refused_when_resources_are_set_up(warehouse_url: str) -> None:
    """The run fails in resource set-up with the message; no step runs, no table is created."""
    result = dg.materialize(
        list(defs.assets or []),  # type: ignore[arg-type]
        selection=["staging_songs"],
        resources={
            **resources_for(warehouse_url, ""),
            "source": SourceResource(url="", warehouse_url=warehouse_url),
            "warehouse": WarehouseResource(url=warehouse_url),
        },
        raise_on_error=False,
    )
    assert not result.success
    failures = [
        e
        for e in result.all_events
        if e.event_type in (dg.DagsterEventType.RUN_FAILURE, dg.DagsterEventType.STEP_FAILURE)
        or e.event_type_value == "RESOURCE_INIT_FAILURE"
    ]
    messages = " ".join(str(e.message) + str(e.event_specific_data) for e in failures)
    assert REFUSAL in messages
    assert "resource" in messages.lower()
    assert not [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_START]
    assert _tables(warehouse_url, "public") == set()


@pytest.mark.parametrize("sensor", [log_data_sensor, song_data_sensor], ids=lambda s: s.name)
def test_sensors_skip_with_the_message(sensor: dg.SensorDefinition) -> None:
    context = dg.build_sensor_context(
        instance=dg.DagsterInstance.ephemeral(),
        definitions=defs,
        resources={
            "source": SourceResource(url="", warehouse_url="redshift://admin@cluster:5439/dev")
        },
    )
    data = sensor.evaluate_tick(context)
    assert not data.run_requests
    assert data.skip_message is not None and REFUSAL in data.skip_message


def test_sparkify_build_exits_2_with_one_message(warehouse_url: str, tmp_path: Path) -> None:
    env = _env_without_sparkify(
        SPARKIFY_WAREHOUSE_URL=warehouse_url, SPARKIFY_HOME=str(tmp_path / "home")
    )
    env.pop("DAGSTER_HOME", None)
    build = subprocess.run(
        [SPARKIFY, "build"], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert build.returncode == 2, build.stdout[-2000:] + build.stderr[-2000:]
    assert build.stdout == ""
    [line] = build.stderr.strip().splitlines()
    assert line.startswith("sparkify: ") and REFUSAL in line
    assert _tables(warehouse_url, "public") == set()
    assert not (tmp_path / "home" / "sample_source").exists()  # no sample data generated


def _catalog_in(warehouse_url: str, source: Path, schema: str) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        list(defs.assets or []),  # type: ignore[arg-type]
        selection=["staging_songs", "songs", "artists"],
        resources={
            **resources_for(warehouse_url, source),
            "source": SourceResource(url=str(source), warehouse_url=warehouse_url),
            "warehouse": WarehouseResource(url=warehouse_url, schema_name=schema),
        },
    )


def test_two_schemas_side_by_side_in_one_database(
    warehouse_url: str, small_source: Path, tmp_path: Path
) -> None:
    other_source = tmp_path / "other"
    write_sample_source(other_source, SampleSpec(seed=3, days=1, events_per_day=5, catalog_songs=9))

    dev = _catalog_in(warehouse_url, other_source, "dev")
    prod = _catalog_in(warehouse_url, small_source, "prod")

    assert dev.success and prod.success
    project_tables = {"staging_songs", "songs", "artists", "sparkify_schema_version"}
    assert project_tables <= _tables(warehouse_url, "dev")
    assert project_tables <= _tables(warehouse_url, "prod")
    assert _tables(warehouse_url, "public") == set()
    with psycopg.connect(warehouse_url) as connection:
        counts = {
            schema: connection.execute(
                f"SELECT COUNT(*) FROM {schema}.staging_songs"  # test-only, fixed names
            ).fetchone()[0]  # type: ignore[index]
            for schema in ("dev", "prod")
        }
    assert counts == {"dev": 9, "prod": SMALL_SPEC.catalog_songs}
    table_name = prod.asset_materializations_for_node("songs")[0].metadata["dagster/table_name"]
    assert str(table_name.value).endswith(".prod.songs")  # type: ignore[attr-defined]


@pytest.mark.parametrize("schema", ['dev"; DROP TABLE songs; --', "Prod", "1abc", ""])
def test_a_schema_that_is_not_a_plain_identifier_is_refused(
    warehouse_url: str, small_source: Path, schema: str
) -> None:
    result = dg.materialize(
        list(defs.assets or []),  # type: ignore[arg-type]
        selection=["staging_songs"],
        resources={
            **resources_for(warehouse_url, small_source),
            "warehouse": WarehouseResource(url=warehouse_url, schema_name=schema or " "),
        },
        raise_on_error=False,
    )
    assert not result.success
    assert _tables(warehouse_url, "public") == set()


def test_concurrent_first_runs_create_a_new_schema_once(warehouse_url: str) -> None:
    """The log sensor's first tick starts many runs at once: each creates the schema and the
    tables if missing; none fails, and one version row is recorded."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from sparkify_assets.warehouse.postgres.engine import PostgresWarehouse

    start = Barrier(4)

    def first_run() -> int | None:
        with PostgresWarehouse(warehouse_url, schema="fresh_schema") as warehouse:
            start.wait()
            warehouse.ensure_tables()
            return warehouse.schema_version()

    with ThreadPoolExecutor(4) as pool:
        versions = list(pool.map(lambda _: first_run(), range(4)))
    assert len(set(versions)) == 1 and versions[0] is not None
    with psycopg.connect(warehouse_url) as connection:
        rows = connection.execute("SELECT version FROM fresh_schema.sparkify_schema_version")
        assert len(rows.fetchall()) == 1
