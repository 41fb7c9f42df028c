"""The project's instance keeps its storage connections open (storage_connection_pool): a run does
not open a PostgreSQL connection per event, a forked child never shares its parent's, and a
connection the server dropped is replaced, not reported as an error."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg
import pytest
import sqlalchemy
from sqlalchemy import event

from sparkify_assets.definitions import defs
from sparkify_assets.defs.asset_groups import CATALOG_ASSETS, LOG_DATE_ASSETS
from sparkify_assets.instance.project_instance import prepare_instance
from tests.conftest import SMALL_SPEC, resources_for

# With dagster-postgres' own engines (a new connection per query), this one-day run opened about
# 300 connections; kept open, a handful (one per storage, plus any used concurrently).
MAX_CONNECTIONS_OF_A_DAY_RUN = 20


@pytest.fixture
def instance(
    dagster_storage_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dg.DagsterInstance]:
    monkeypatch.setenv("SPARKIFY_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SPARKIFY_DAGSTER_STORAGE_URL", dagster_storage_url)
    with dg.DagsterInstance.from_config(str(prepare_instance())) as project_instance:
        yield project_instance


def _backend_pid(engine: sqlalchemy.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sqlalchemy.text("SELECT pg_backend_pid()")).scalar_one())


def _storage_engines(instance: dg.DagsterInstance) -> list[sqlalchemy.Engine]:
    storages = [instance.run_storage, instance.event_log_storage, instance.schedule_storage]
    return [storage._engine for storage in storages]  # type: ignore[union-attr]


def test_a_day_run_opens_a_handful_of_storage_connections(
    instance: dg.DagsterInstance, warehouse_url: str, small_source: Path
) -> None:
    resources = resources_for(warehouse_url, small_source)
    assets = [a for a in defs.assets or () if isinstance(a, dg.AssetsDefinition)]
    assert dg.materialize(assets, selection=list(CATALOG_ASSETS), resources=resources).success
    opened: list[object] = []

    def count(dbapi_connection: object, _: object) -> None:
        opened.append(dbapi_connection)

    event.listen(sqlalchemy.pool.Pool, "connect", count)  # every engine's pool
    try:
        result = dg.materialize(
            assets,
            selection=list(LOG_DATE_ASSETS),
            resources=resources,
            instance=instance,
            partition_key=SMALL_SPEC.start.isoformat(),
        )
    finally:
        event.remove(sqlalchemy.pool.Pool, "connect", count)
    assert result.success
    events = len(instance.get_records_for_run(result.run_id).records)
    assert events > 3 * MAX_CONNECTIONS_OF_A_DAY_RUN  # a connection per event would show
    assert 0 < len(opened) <= MAX_CONNECTIONS_OF_A_DAY_RUN


def _child_backend_pids(instance: dg.DagsterInstance, pids: multiprocessing.Queue) -> None:
    pids.put([_backend_pid(engine) for engine in _storage_engines(instance)])


def test_a_forked_child_never_uses_its_parents_connection(instance: dg.DagsterInstance) -> None:
    parent = [_backend_pid(engine) for engine in _storage_engines(instance)]
    context = multiprocessing.get_context("fork")
    pids: multiprocessing.Queue = context.Queue()
    child = context.Process(target=_child_backend_pids, args=(instance, pids))
    child.start()
    in_child = pids.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    assert all(mine != theirs for mine, theirs in zip(parent, in_child, strict=True))
    # The parent's kept connections still work (the child did not close them).
    assert [_backend_pid(engine) for engine in _storage_engines(instance)] == parent


def test_a_connection_the_server_dropped_is_replaced(
    instance: dg.DagsterInstance, dagster_storage_url: str
) -> None:
    engines = _storage_engines(instance)
    kept = [_backend_pid(engine) for engine in engines]
    assert [_backend_pid(engine) for engine in engines] == kept  # kept, not reopened
    with psycopg.connect(dagster_storage_url, autocommit=True) as admin:
        for pid in kept:
            admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))  # waits until gone
    # No error: each storage replaces its connection.
    assert instance.get_runs() == []
    assert instance.get_asset_keys() == []
    assert instance.all_instigator_state() == []
    assert all(_backend_pid(engine) != old for engine, old in zip(engines, kept, strict=True))
