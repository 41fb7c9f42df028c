"""Faults and concurrency against the real PostgreSQL server: a connection killed mid-load, a
process killed mid-run, several runs at once. Each ends in exactly the state of a clean serial load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from sparkify_assets.definitions import defs
from sparkify_assets.defs.asset_groups import CATALOG_ASSETS, LOG_DATE_ASSETS
from sparkify_assets.defs.log_date_partitions import partition_range_tags
from sparkify_assets.sample_data.generator import write_sample_source
from sparkify_assets.sample_data.spec import SampleSpec
from tests.conftest import SMALL_SPEC, resources_for
from tests.reference_warehouse import reference_warehouse
from tests.warehouse_state import assert_matches_reference

# Large enough that a day's COPY runs for a good fraction of a second.
BIG_SPEC = SampleSpec(seed=11, days=2, events_per_day=40_000, users=60, catalog_songs=80)


@pytest.fixture(scope="module")
def big_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("big_source")
    write_sample_source(root, BIG_SPEC)
    return root


def _wait_for_backend(url: str, query_prefix: str, *, waiting_on_lock: bool = False) -> int:
    """The pid of the project's session running a query starting with ``query_prefix``."""
    deadline = time.monotonic() + 60
    with psycopg.connect(url, autocommit=True) as watcher:
        while time.monotonic() < deadline:
            row = watcher.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'sparkify_assets'"
                " AND state = 'active' AND query LIKE %s"
                " AND (NOT %s OR wait_event_type = 'Lock')",
                (query_prefix + "%", waiting_on_lock),
            ).fetchone()
            if row:
                return int(row[0])
            time.sleep(0.005)
    raise AssertionError(f"no session ran {query_prefix!r} within 60 s")


def _in_background(
    work: Callable[[], dg.ExecuteInProcessResult],
) -> tuple[threading.Thread, list[dg.ExecuteInProcessResult]]:
    results: list[dg.ExecuteInProcessResult] = []
    thread = threading.Thread(target=lambda: results.append(work()), daemon=True)
    thread.start()
    return thread, results


def _materialize(
    resources: dict[str, object], selection: tuple[str, ...], **kwargs: object
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        list(defs.assets),
        selection=list(selection),
        resources=resources,
        raise_on_error=False,
        **kwargs,
    )  # type: ignore[arg-type]


def _retried(result: dg.ExecuteInProcessResult) -> bool:
    return any(e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY for e in result.all_events)


def test_connection_killed_during_copy_is_retried_to_the_clean_state(
    warehouse_url: str, big_source: Path
) -> None:
    resources = resources_for(warehouse_url, big_source)
    assert _materialize(resources, CATALOG_ASSETS).success
    tags = partition_range_tags(BIG_SPEC.start, BIG_SPEC.start + timedelta(days=1))

    thread, results = _in_background(lambda: _materialize(resources, LOG_DATE_ASSETS, tags=tags))
    pid = _wait_for_backend(warehouse_url, "COPY staging_events")
    with psycopg.connect(warehouse_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    thread.join(timeout=300)

    [result] = results
    assert result.success
    assert _retried(result)
    assert_matches_reference(warehouse_url, reference_warehouse(big_source))


def test_connection_killed_during_a_transform_is_retried_to_the_clean_state(
    warehouse_url: str, small_source: Path
) -> None:
    """The songplays INSERT is held (the test locks a table it reads) after its DELETE ran, and
    its session is killed there: the DELETE must roll back, and the retry rebuild the window."""
    resources = resources_for(warehouse_url, small_source)
    assert _materialize(resources, CATALOG_ASSETS).success
    day = SMALL_SPEC.start.isoformat()
    assert _materialize(resources, ("staging_events", "users"), partition_key=day).success

    with psycopg.connect(warehouse_url) as blocker:
        blocker.execute("LOCK TABLE staging_songs IN ACCESS EXCLUSIVE MODE")
        thread, results = _in_background(
            lambda: _materialize(resources, ("songplays", "time"), partition_key=day)
        )
        pid = _wait_for_backend(warehouse_url, "INSERT INTO songplays", waiting_on_lock=True)
        with psycopg.connect(warehouse_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        blocker.rollback()  # releases the lock: the retry can run
    thread.join(timeout=120)

    [result] = results
    assert result.success and _retried(result)
    assert_matches_reference(warehouse_url, reference_warehouse(small_source, days={day}))


class DagsterCommand:
    """`dagster asset materialize` in a subprocess; its output goes to a file (a pipe nobody reads
    would block it)."""

    def __init__(self, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        dagster = str(Path(sys.executable).parent / "dagster")
        self.log = log_dir / f"dagster-{time.monotonic_ns()}.log"
        with self.log.open("w") as output:
            self.process = subprocess.Popen(
                [dagster, "asset", "materialize", "-m", "sparkify_assets.definitions", *args],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def finish(self, timeout: float = 600) -> tuple[int, str]:
        """Waits for the command; returns its exit code and the tail of its output."""
        code = self.process.wait(timeout=timeout)
        return code, self.log.read_text()[-3000:]


def _env(warehouse_url: str, source: Path, home: Path) -> dict[str, str]:
    home.mkdir(exist_ok=True)
    return {
        **os.environ,
        "SPARKIFY_WAREHOUSE_URL": warehouse_url,
        "SPARKIFY_SOURCE_URL": str(source),
        "DAGSTER_HOME": str(home),
    }


def test_process_killed_mid_run_then_rerun_gives_the_clean_state(
    warehouse_url: str, big_source: Path, tmp_path: Path
) -> None:
    env = _env(warehouse_url, big_source, tmp_path / "home")
    code, output = DagsterCommand(["--select", ",".join(CATALOG_ASSETS)], env, tmp_path).finish()
    assert code == 0, output
    days = [
        "--select",
        ",".join(LOG_DATE_ASSETS),
        "--partition-range",
        f"{BIG_SPEC.start}...{BIG_SPEC.start + timedelta(days=1)}",
    ]

    doomed = DagsterCommand(days, env, tmp_path)
    _wait_for_backend(warehouse_url, "COPY staging_events")
    doomed.process.send_signal(signal.SIGKILL)
    doomed.process.wait(timeout=60)
    with psycopg.connect(warehouse_url) as connection:  # nothing of the killed load is visible
        assert connection.execute("SELECT COUNT(*) FROM staging_events").fetchone() == (0,)

    code, output = DagsterCommand(days, env, tmp_path).finish()
    assert code == 0, output
    assert_matches_reference(warehouse_url, reference_warehouse(big_source))


def test_concurrent_runs_give_the_serial_result(
    warehouse_url: str, small_source: Path, tmp_path: Path
) -> None:
    """Every day in its own process at once, plus the same day twice and an overlapping range, as
    a sensor and a backfill would launch them: no deadlock, no duplicate, correct latest levels."""
    env = _env(warehouse_url, small_source, tmp_path / "home")
    code, output = DagsterCommand(["--select", ",".join(CATALOG_ASSETS)], env, tmp_path).finish()
    assert code == 0, output
    days = [(SMALL_SPEC.start + timedelta(days=n)).isoformat() for n in range(SMALL_SPEC.days)]
    select = ["--select", ",".join(LOG_DATE_ASSETS)]
    runs = [
        DagsterCommand([*select, "--partition", day], env, tmp_path) for day in [*days, days[2]]
    ]
    runs.append(
        DagsterCommand([*select, "--partition-range", f"{days[1]}...{days[3]}"], env, tmp_path)
    )

    for run in runs:
        code, output = run.finish()
        assert code == 0, output
    assert_matches_reference(warehouse_url, reference_warehouse(small_source))
