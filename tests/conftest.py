"""Shared fixtures: a real PostgreSQL server, a fresh database per test, generated source data."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
import psycopg
import pytest
from psycopg import sql as pgsql

from sparkify_assets.defs.backup_resource import BackupResource
from sparkify_assets.defs.resources import SourceResource, WarehouseResource
from sparkify_assets.sample_data.generator import write_sample_source
from sparkify_assets.sample_data.spec import SampleSpec

# The fixtures of a real S3 server (moto) and of the Redshift engine against PostgreSQL, for every
# test module that names them.
pytest_plugins = ["tests.support.s3_server", "tests.support.redshift_copy_emulation"]

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

# A small data set with every quirk of the real one: 6 days, ~900 events, ~60 catalog songs.
SMALL_SPEC = SampleSpec(seed=7, days=6, events_per_day=150, users=25, catalog_songs=60)


@pytest.fixture(scope="session", autouse=True)
def _no_embedded_server_outlives_the_session(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """Tests run `sparkify` with homes of their own under pytest's temporary folder; each home
    that got an embedded server (its password file says so) has it stopped and its state deleted
    at the end — as root that state is in /var/lib/sparkify, which outlives the checkout."""
    yield
    from sparkify_assets.warehouse.postgres.embedded_server import PASSWORD_FILE, EmbeddedPostgres

    for password_file in tmp_path_factory.getbasetemp().rglob(PASSWORD_FILE):
        try:
            EmbeddedPostgres.for_home(password_file.parent).remove()
        except Exception as error:  # a test's odd home: say so, do not fail the session for it
            warnings.warn(
                f"embedded server of {password_file.parent} not removed: {error}", stacklevel=1
            )


@pytest.fixture(scope="session", autouse=True)
def _sparkify_home_of_the_session() -> Iterator[Path]:
    """No test touches the checkout's `.sparkify/` (a developer's warehouse) nor a server state
    left on the machine by an earlier run: what runs `sparkify` without a home of its own gets this
    one, whose server is removed at the end."""
    from sparkify_assets.warehouse.postgres.embedded_server import EmbeddedPostgres

    home = Path(tempfile.mkdtemp(prefix="sparkify-session-home-"))
    previous = os.environ.get("SPARKIFY_HOME")
    os.environ["SPARKIFY_HOME"] = str(home)
    try:
        yield home
    finally:
        if previous is None:
            os.environ.pop("SPARKIFY_HOME", None)
        else:
            os.environ["SPARKIFY_HOME"] = previous
        EmbeddedPostgres.for_home(home).remove()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(autouse=True)
def _instance_environment_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """`sparkify`'s commands name the project's instance in this process's environment
    (DAGSTER_HOME, the instance storage's password) for whatever asks Dagster later; run in-process,
    a test would leave them to the next test, pointing at a server that test has stopped.
    Each test starts without them and they are undone after it."""
    for name in ("DAGSTER_HOME", "SPARKIFY_DAGSTER_STORAGE_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def postgres_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An admin URL of a real PostgreSQL server: ``SPARKIFY_TEST_POSTGRES_URL`` if set, else the
    project's embedded server (``warehouse/postgres/embedded_server.py``) for a temporary sparkify home,
    removed afterwards. Its URLs hold no password: libpq reads it from a 0600 passfile named by
    ``PGPASSFILE`` (inherited by the processes that tests start)."""
    external = os.environ.get("SPARKIFY_TEST_POSTGRES_URL")
    if external:
        yield external
        return
    from sparkify_assets.warehouse.postgres.embedded_server import (
        EmbeddedPostgres,
        write_private_file,
    )

    home = Path(tempfile.mkdtemp(prefix="sparkify-test-home-"))
    server = EmbeddedPostgres.for_home(home)
    server.ensure_database("postgres")
    passfile = home / "pgpass"
    write_private_file(passfile, f"*:*:*:{server.user}:{server.password}\n")
    previous = os.environ.get("PGPASSFILE")
    os.environ["PGPASSFILE"] = str(passfile)
    try:
        yield server.url("postgres")
    finally:
        if previous is None:
            os.environ.pop("PGPASSFILE", None)
        else:
            os.environ["PGPASSFILE"] = previous
        server.remove()
        shutil.rmtree(home, ignore_errors=True)


def _with_database(admin_url: str, database: str) -> str:
    """``admin_url`` (a postgresql:// URL) pointing at another database."""
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@contextmanager
def new_database(admin_url: str) -> Iterator[str]:
    """Creates an empty database, yields its URL, drops it afterwards."""
    database = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(database)))
    try:
        yield _with_database(admin_url, database)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(
                pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    pgsql.Identifier(database)
                )
            )


@pytest.fixture
def warehouse_url(postgres_admin_url: str) -> Iterator[str]:
    """A new, empty database for one test."""
    with new_database(postgres_admin_url) as url:
        yield url


@pytest.fixture
def dagster_storage_url(postgres_admin_url: str) -> Iterator[str]:
    """A new, empty database for a project instance's storage (SPARKIFY_DAGSTER_STORAGE_URL)."""
    with new_database(postgres_admin_url) as url:
        yield url


@pytest.fixture(scope="session")
def small_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated source tree (SMALL_SPEC), shared read-only by the tests."""
    root = tmp_path_factory.mktemp("source")
    write_sample_source(root, SMALL_SPEC)
    return root


def resources_for(warehouse_url: str, source: Path | str) -> dict[str, object]:
    return {
        "warehouse": WarehouseResource(url=warehouse_url),
        "source": SourceResource(url=str(source)),
        "backup": BackupResource(),  # warehouse_backup needs it, even unselected; no URL: no backup
    }


def table_rows(warehouse_url: str, table: str, order_by: str) -> list[tuple[object, ...]]:
    """All rows of a table, ordered (test helper; identifiers come from the tests themselves)."""
    query = pgsql.SQL("SELECT * FROM {} ORDER BY {}").format(
        pgsql.Identifier(table), pgsql.SQL(order_by)
    )
    with psycopg.connect(warehouse_url) as connection:
        return connection.execute(query).fetchall()
