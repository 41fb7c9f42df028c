"""The warehouse's schema version and the migrations that reach it, one transaction each (how to add
one, and ``sparkify migrate``: docs/operations.md, "Schema versions")."""

from __future__ import annotations

from sparkify_assets.settings.problems import SettingProblem
from sparkify_assets.warehouse.sql_files import SqlStatement, load_file, sql_root

VERSION_TABLE = "sparkify_schema_version"
MIGRATE_COMMAND = "sparkify migrate"

# What each version changed; the highest is the version this release creates and expects.
VERSIONS = {
    1: "the project's tables, before the warehouse recorded its version",
    2: (
        "sparkify_schema_version; PostgreSQL: songplays and time without enforced primary keys,"
        " with start_time indexes"
    ),
}
CURRENT_VERSION = max(VERSIONS)
UNVERSIONED = 1


class SchemaVersionMismatch(SettingProblem):
    """The warehouse is at another schema version than this release's; the message says what to
    do (``sparkify`` prints it and exits 2). Not retried: only a migration (or the right release)
    changes it."""

    def __init__(self, found: int, location: str) -> None:
        self.found = found
        if found < CURRENT_VERSION:
            message = (
                f"The warehouse {location} has schema version {found}; this release needs version"
                f" {CURRENT_VERSION}. Run `{MIGRATE_COMMAND}` (with the same settings) to upgrade"
                " it in place; no row is lost."
            )
        else:
            message = (
                f"The warehouse {location} has schema version {found}, newer than this release's"
                f" {CURRENT_VERSION}: install the release that created it (or a newer one)."
            )
        super().__init__(message, setting="the warehouse's schema version")


def migration_statements(engine: str, version: int) -> list[SqlStatement]:
    """The statements that bring ``engine``'s warehouse from ``version - 1`` to ``version``."""
    if version not in VERSIONS or version <= UNVERSIONED:
        raise ValueError(f"no migration to schema version {version}")
    file_key = f"{engine}/migrations/v{version}"
    if not (sql_root() / f"{file_key}.sql").is_file():
        return []
    return list(load_file(file_key).values())
